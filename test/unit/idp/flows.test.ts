/**
 * The simulated IDP's good paths over real HTTPS: discovery and keys, the native (PVS) and web
 * client flows with explicit consent, SSO, implicit consent, independent verification of the
 * tokens with openssl, metrics (A_18993), transport (A_18862) and log hygiene (A_18859).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { bp256PublicKeyFromJwk, ecdsaRawToDer } from '../../../simulators/lib/bp256';
import { DISCOVERY_CONTENT_TYPE, KID } from '../../../simulators/lib/idp-protocol';
import { decodeJws, verifyJws } from '../../../simulators/lib/jose';
import { parseCertificate, pemToDer, toPem } from '../../../simulators/lib/x509';
import { issueTestSigner, type TestSigner } from '../../../simulators/idp/testing/software-signer';
import { openssl } from '../pki/helpers';
import {
  APP_CLIENT,
  PS_CLIENT,
  WEB_CLIENT,
  authorize,
  discover,
  keyVerifier,
  keys,
  login,
  metric,
  metricsText,
  pkce,
  postSignedChallenge,
  redeem,
  redirectParams,
  request,
  signChallenge,
  startIdpFixture,
  type IdpFixture,
} from './helpers';

let fx: IdpFixture;
let smcb: TestSigner;
let egk: TestSigner;

before(async () => {
  fx = await startIdpFixture();
  smcb = issueTestSigner(fx.pkiService.pki, {
    profile: 'C.HCI.AUT',
    telematikId: '1-SMC-B-Testpraxis-0815',
    subject: { organization: '2-SMC-B-Testkarte-883110000092414', commonName: 'Praxis Dr. Hanna Ebert TEST-ONLY' },
  });
  egk = issueTestSigner(fx.pkiService.pki, { profile: 'C.CH.AUT', kvnr: 'X110540756', subject: { givenName: 'Jonas', surname: 'Keller' } });
});
after(async () => fx?.stop());

test('discovery: a JWS (application/jwt) signed with puk_disc_sig whose C.IDP.SIG certificate chains to the PKI root; valid 24 h', async () => {
  const r = await request(fx, 'GET', `${fx.idp.url}/.well-known/openid-configuration`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], DISCOVERY_CONTENT_TYPE);
  const jws = decodeJws(r.text);
  assert.equal(jws.header.alg, 'BP256R1');
  assert.equal(jws.header.kid, KID.discoverySignature);
  assert.equal(jws.header.typ, 'JWT');
  const verified = verifyJws(r.text);
  const cert = parseCertificate(verified.certificate?.raw as Buffer);
  assert.ok(cert.policies.includes('1.2.276.0.76.4.203'), 'C.IDP.SIG is an oid_fd_sig certificate');
  assert.deepEqual(cert.admission?.professions[0].professionOids, ['1.2.276.0.76.4.260'], 'role oid_idpd');
  // Independent chain check with openssl: leaf ← komp-ca (from the PKI service) ← root.
  const dir = fs.mkdtempSync(path.join(fx.tmp, 'disc-'));
  fs.writeFileSync(path.join(dir, 'root.pem'), fx.idp.trustRootPem);
  fs.writeFileSync(path.join(dir, 'komp.pem'), (await request(fx, 'GET', `${fx.pkiService.url}/certs/komp-ca.pem`)).text);
  fs.writeFileSync(path.join(dir, 'leaf.pem'), toPem(cert.der));
  const v = openssl(['verify', '-CAfile', path.join(dir, 'root.pem'), '-untrusted', path.join(dir, 'komp.pem'), path.join(dir, 'leaf.pem')]);
  assert.match(v.all, /leaf\.pem: OK/, v.all);
  const doc = await discover(fx);
  assert.equal(doc.exp - doc.iat, 24 * 3600);
  assert.equal(doc.issuer, fx.idp.url);
  assert.ok(Math.abs(doc.iat - fx.clock.nowSeconds()) <= 2);
  for (const k of ['authorization_endpoint', 'sso_endpoint', 'token_endpoint', 'end_session_endpoint', 'revocation_endpoint', 'introspection_endpoint', 'consent_endpoint', 'jwks_uri']) {
    assert.ok(String(doc[k]).startsWith(`${fx.idp.url}/`), `${k} on the issuer over https`);
  }
  assert.deepEqual(doc.response_types_supported, ['code']);
  assert.deepEqual(doc.grant_types_supported, ['authorization_code']);
  assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(doc.scopes_supported, ['openid', 'e-rezept']);
  // The discovery document follows the simulated clock.
  fx.clock.advance(3600_000);
  assert.equal((await discover(fx)).iat - doc.iat >= 3600, true);
});

test('JWKS: puk_idp_sig (BP-256, x5c C.IDP.SIG) and puk_idp_enc (BP-256); the per-key URIs serve the same keys', async () => {
  const doc = await discover(fx);
  const k = await keys(fx, doc);
  assert.equal(k.sig.kid, KID.idpSignature);
  assert.equal(k.sig.crv, 'BP-256');
  assert.equal(k.enc.kid, KID.idpEncryption);
  assert.equal(k.enc.crv, 'BP-256');
  assert.equal(k.enc.x5c, undefined);
  const sigCert = new crypto.X509Certificate(Buffer.from(k.sig.x5c[0], 'base64'));
  assert.ok(sigCert.publicKey.equals(bp256PublicKeyFromJwk(k.sig)), 'x5c certifies the JWK');
  assert.deepEqual((await request(fx, 'GET', doc.uri_puk_idp_sig)).json(), k.sig);
  assert.deepEqual((await request(fx, 'GET', doc.uri_puk_idp_enc)).json(), k.enc);
});

test('native client with SMC-B: consent asked once, token claims from the certificate (A_18808), pairwise sub (A_18859), nonce echoed', async () => {
  const doc = await discover(fx);
  // user_consent of the authorization request lists the scope's claims with German texts.
  const a = await authorize(fx, doc, {});
  assert.equal(a.status, 200);
  const uc = a.json().user_consent;
  assert.deepEqual(Object.keys(uc.requested_scopes).sort(), ['e-rezept', 'openid']);
  assert.deepEqual(Object.keys(uc.requested_claims).sort(), ['display_name', 'family_name', 'given_name', 'idNummer', 'organizationName', 'professionOID']);
  assert.match(uc.requested_claims.idNummer, /Krankenversichertennummer, Telematik-Id/);

  const first = await login(fx, smcb.signer, PS_CLIENT, { nonce: 'n-first' });
  assert.equal(first.consentAsked, true, 'first release of the attributes asks for consent (A_18865)');
  const at = first.access;
  assert.equal(at.iss, fx.idp.url);
  assert.equal(at.aud, 'https://erp-test.zentral.erp.splitdns.ti-dienste.de/');
  assert.equal(at.exp - at.iat, 300);
  assert.equal(first.tokens.expires_in, 300);
  assert.equal(first.tokens.token_type, 'Bearer');
  assert.equal(at.client_id, PS_CLIENT.client_id);
  assert.equal(at.azp, PS_CLIENT.client_id);
  assert.equal(at.acr, 'gematik-ehealth-loa-high');
  assert.deepEqual(at.amr, ['mfa', 'sc', 'pin']);
  assert.equal(at.scope, 'openid e-rezept');
  assert.equal(at.idNummer, '1-SMC-B-Testpraxis-0815');
  assert.equal(at.professionOID, '1.2.276.0.76.4.50');
  assert.equal(at.organizationName, '2-SMC-B-Testkarte-883110000092414');
  assert.equal(at.display_name, 'Praxis Dr. Hanna Ebert TEST-ONLY');
  assert.notEqual(at.sub, at.idNummer);
  assert.ok(!JSON.stringify(at.sub).includes('0815'), 'sub does not contain the idNummer');
  assert.equal(decodeJws(first.accessJws).header.typ, 'at+JWT');
  assert.equal(decodeJws(first.accessJws).header.kid, KID.idpSignature);
  const id = first.id;
  assert.equal(id.aud, PS_CLIENT.client_id);
  assert.equal(id.nonce, 'n-first');
  assert.equal(id.sub, at.sub);
  assert.equal(id.at_hash, crypto.createHash('sha256').update(first.accessJws).digest().subarray(0, 16).toString('base64url'));
  assert.equal(first.ssoToken, undefined, 'no SSO token for a PVS client (sso: false, A_21472)');

  const second = await login(fx, smcb.signer, PS_CLIENT);
  assert.equal(second.consentAsked, false, 'consent is remembered per identity, client and scope');
  assert.equal(second.access.sub, at.sub, 'stable sub for the same client');
  const other = await login(fx, smcb.signer, APP_CLIENT);
  assert.equal(other.consentAsked, true, 'another client asks again');
  assert.notEqual(other.access.sub, at.sub, 'pairwise: another client gets another sub');
});

test('web client (A_18803): the token endpoint requires its client_secret (post or basic); missing or wrong → 401 invalid_client', async () => {
  const doc = await discover(fx);
  const jwks = await keys(fx, doc);
  const codeFor = async () => {
    const p = pkce();
    const a = await authorize(fx, doc, { client_id: WEB_CLIENT.client_id, redirect_uri: WEB_CLIENT.redirect_uri, pkce: p });
    assert.equal(a.status, 200, a.text);
    let r = await postSignedChallenge(fx, doc, await signChallenge(smcb.signer, a.json().challenge, jwks.enc));
    if (r.status === 200) {
      const c = r.json();
      r = await request(fx, 'POST', doc.consent_endpoint, { form: { consent_token: c.consent_token, consent: 'granted', consented_claims: Object.keys(c.requested_claims).join(' ') } });
    }
    return { code: redirectParams(r).get('code') as string, p };
  };
  const { code, p } = await codeFor();
  const base = { code, client_id: WEB_CLIENT.client_id, redirect_uri: WEB_CLIENT.redirect_uri, key_verifier: keyVerifier(jwks.enc, p.verifier).jwe };
  const none = await redeem(fx, doc, base);
  assert.equal(none.status, 401);
  assert.equal(none.json().error, 'invalid_client');
  assert.equal(none.json().gematik_code, '3007');
  assert.match(String(none.headers['www-authenticate']), /^Basic /);
  const wrong = await redeem(fx, doc, { ...base, client_secret: 'not-the-secret-of-this-client' });
  assert.equal(wrong.status, 401);
  const ok = await redeem(fx, doc, { ...base, client_secret: WEB_CLIENT.client_secret });
  assert.equal(ok.status, 200, ok.text);
  // client_secret_basic works as well.
  const second = await codeFor();
  const basic = Buffer.from(`${WEB_CLIENT.client_id}:${encodeURIComponent(WEB_CLIENT.client_secret)}`).toString('base64');
  const viaBasic = await redeem(
    fx,
    doc,
    { code: second.code, client_id: WEB_CLIENT.client_id, redirect_uri: WEB_CLIENT.redirect_uri, key_verifier: keyVerifier(jwks.enc, second.p.verifier).jwe },
    { authorization: `Basic ${basic}` },
  );
  assert.equal(viaBasic.status, 200, viaBasic.text);
});

test('SSO (A_18809): the app gets an SSO token; a later authorization — also of another client — needs no card signature', async () => {
  const first = await login(fx, egk.signer, APP_CLIENT);
  assert.ok(first.ssoToken, 'eRezeptApp (sso: true) receives an SSO token');
  assert.equal(first.access.idNummer, 'X110540756');
  assert.equal(first.access.given_name, 'Jonas');
  assert.equal(first.access.family_name, 'Keller');
  assert.equal(first.access.professionOID, '1.2.276.0.76.4.49');
  const doc = first.doc;
  const jwks = first.jwks;
  const sso = async (client: { client_id: string; redirect_uri: string }, extra: Record<string, string> = {}) => {
    const p = pkce();
    const a = await authorize(fx, doc, { client_id: client.client_id, redirect_uri: client.redirect_uri, pkce: p, state: 'sso-state', ...extra });
    assert.equal(a.status, 200, a.text);
    const r = await request(fx, 'POST', doc.sso_endpoint, { form: { ssotoken: first.ssoToken, unsigned_challenge: a.json().challenge } });
    return { r, p };
  };
  fx.clock.advance(3600_000);
  const { r, p } = await sso(APP_CLIENT);
  const q = redirectParams(r);
  assert.equal(q.get('state'), 'sso-state');
  assert.equal(q.get('ssotoken'), null, 'no new SSO token from the SSO flow');
  const t = await redeem(fx, doc, { code: q.get('code') as string, client_id: APP_CLIENT.client_id, redirect_uri: APP_CLIENT.redirect_uri, key_verifier: keyVerifier(jwks.enc, p.verifier).jwe });
  assert.equal(t.status, 200, t.text);
  // Another client: consent for it first (card flow), then SSO works for it too (reference profile).
  const consentFirst = await sso(PS_CLIENT);
  assert.equal(consentFirst.r.status, 400);
  assert.equal(consentFirst.r.json().gematik_code, '2042', 'no consent for this client yet');
  await login(fx, egk.signer, PS_CLIENT);
  const other = await sso(PS_CLIENT);
  assert.ok(redirectParams(other.r).get('code'));
  // prompt=login forces a new card authentication.
  const forced = await sso(APP_CLIENT, { prompt: 'login' });
  assert.equal(forced.r.status, 400);
  assert.equal(forced.r.json().gematik_code, '2041');
  assert.equal(forced.r.json().error, 'access_denied');
  // auth_time stays the time of the card authentication (A_20459).
  const decoded = await login(fx, egk.signer, APP_CLIENT);
  assert.ok(decoded.access.auth_time >= first.access.auth_time + 3600);
});

test('independent verification: the access token JWS verifies with openssl against puk_idp_sig from the JWKS; a changed byte does not', async () => {
  const r = await login(fx, smcb.signer);
  const [h, p, s] = r.accessJws.split('.');
  const dir = fs.mkdtempSync(path.join(fx.tmp, 'ossl-'));
  const pub = bp256PublicKeyFromJwk(r.jwks.sig).export({ type: 'spki', format: 'pem' }) as string;
  fs.writeFileSync(path.join(dir, 'pub.pem'), pub);
  fs.writeFileSync(path.join(dir, 'sig.der'), ecdsaRawToDer(Buffer.from(s, 'base64url')));
  fs.writeFileSync(path.join(dir, 'input.txt'), `${h}.${p}`);
  const ok = openssl(['dgst', '-sha256', '-verify', path.join(dir, 'pub.pem'), '-signature', path.join(dir, 'sig.der'), path.join(dir, 'input.txt')]);
  assert.match(ok.all, /Verified OK/, ok.all);
  fs.writeFileSync(path.join(dir, 'input.txt'), `${h}.${p.slice(0, -2)}AA`);
  const bad = openssl(['dgst', '-sha256', '-verify', path.join(dir, 'pub.pem'), '-signature', path.join(dir, 'sig.der'), path.join(dir, 'input.txt')]);
  assert.match(bad.all, /Verification failure/, bad.all);
  // The JWE layers: both tokens are dir/A256GCM with the client's token_key, cty NJWT, exp in the header.
  const atHeader = JSON.parse(Buffer.from(r.tokens.access_token.split('.')[0], 'base64url').toString());
  assert.deepEqual({ alg: atHeader.alg, enc: atHeader.enc, cty: atHeader.cty, exp: atHeader.exp }, { alg: 'dir', enc: 'A256GCM', cty: 'NJWT', exp: r.access.exp });
  assert.throws(() => verifyJws(r.accessJws, pemToDer(fx.idp.trustRootPem)), 'not signed by some other key');
});

test('implicit consent mode: signing the challenge after seeing user_consent counts as consent (like gematik\'s reference IDP)', async () => {
  const implicit = await startIdpFixture({ config: { consent: 'implicit' }, pkiService: fx.pkiService, tmp: fs.mkdtempSync(path.join(fx.tmp, 'impl-')) });
  try {
    const r = await login(implicit, smcb.signer);
    assert.equal(r.consentAsked, false);
    assert.equal(r.access.idNummer, '1-SMC-B-Testpraxis-0815');
    const health = (await request(implicit, 'GET', `${implicit.idp.url}/__admin/health`)).json();
    assert.equal(health.consent, 'implicit');
  } finally {
    await implicit.stop();
  }
});

test('metrics (A_18993): requests per operation, challenge-response, consent wait and token issuance insured vs. LEI, separately', async () => {
  const before = await metricsText(fx);
  const lei = (t: string) => metric(t, 'idp_tokens_issued_total{user_type="lei"}');
  const insured = (t: string) => metric(t, 'idp_tokens_issued_total{user_type="insured"}');
  const fresh = issueTestSigner(fx.pkiService.pki, { profile: 'C.HCI.AUT', telematikId: '1-SMC-B-metrics-1' });
  await login(fx, fresh.signer);
  const mid = await metricsText(fx);
  assert.equal(lei(mid), lei(before) + 1);
  assert.equal(insured(mid), insured(before));
  await login(fx, egk.signer, APP_CLIENT);
  const after1 = await metricsText(fx);
  assert.equal(insured(after1), insured(before) + 1);
  assert.equal(metric(after1, 'idp_consent_wait_seconds_count'), metric(before, 'idp_consent_wait_seconds_count') + 1, 'one consent (the fresh SMC-B)');
  assert.equal(
    metric(after1, 'idp_challenge_response_duration_seconds_count{outcome="success"}'),
    metric(before, 'idp_challenge_response_duration_seconds_count{outcome="success"}') + 2,
  );
  assert.equal(metric(after1, 'idp_authenticator_response_seconds_count'), metric(before, 'idp_authenticator_response_seconds_count') + 2);
  assert.equal(
    metric(after1, 'idp_requests_total{operation="token",outcome="success"}'),
    metric(before, 'idp_requests_total{operation="token",outcome="success"}') + 2,
  );
  assert.equal(metric(after1, 'idp_token_issuance_duration_seconds_count{user_type="insured"}'), insured(after1));
  assert.match(after1, /# TYPE idp_requests_total counter/);
  assert.match(after1, /# TYPE idp_consent_wait_seconds histogram/);
  assert.match(after1, /idp_operation_duration_seconds_bucket\{operation="signed_challenge",le="\+Inf"\} \d+/);
  // A refused request counts as error.
  const doc = await discover(fx);
  await authorize(fx, doc, { client_id: 'nobody' });
  const after2 = await metricsText(fx);
  assert.equal(
    metric(after2, 'idp_requests_total{operation="authorization_request",outcome="error"}'),
    metric(after1, 'idp_requests_total{operation="authorization_request",outcome="error"}') + 1,
  );
});

test('transport (A_18862): plain HTTP to the IDP port gets no HTTP answer; the certificate is a C.FD.TLS-S of the PKI', async () => {
  const port = Number(new URL(fx.idp.url).port);
  const outcome = await new Promise<string>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/.well-known/openid-configuration', timeout: 5000 }, (res) => resolve(`HTTP ${res.statusCode}`));
    req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
  assert.match(outcome, /^error /, `plain HTTP must not be answered, got ${outcome}`);
  const cert = parseCertificate(fx.idp.tls.eccCertificatePem);
  assert.ok(cert.policies.includes('1.2.276.0.76.4.169'), 'oid_fd_tls_s');
  // TI clients (TLS 1.2, brainpoolP256r1) get the brainpool certificate; without the PKI root the handshake fails.
  const peer = (extra: https.RequestOptions) =>
    new Promise<{ curve?: string; protocol: string | null; issuer: string }>((resolve, reject) => {
      const req = https.get(`${fx.idp.url}/.well-known/openid-configuration`, { ca: fx.idp.trustRootPem, agent: false, ...extra }, (res) => {
        const sock = res.socket as import('node:tls').TLSSocket;
        const c = sock.getPeerCertificate();
        res.resume();
        res.on('end', () => resolve({ curve: c.asn1Curve, protocol: sock.getProtocol(), issuer: String(c.issuer.CN) }));
      });
      req.on('error', reject);
    });
  const bp = await peer({ ecdhCurve: 'brainpoolP256r1:prime256v1', maxVersion: 'TLSv1.2' });
  assert.equal(bp.curve, 'brainpoolP256r1');
  assert.equal(bp.protocol, 'TLSv1.2');
  assert.match(bp.issuer, /KOMP-CA/);
  await assert.rejects(peer({ ca: undefined }), /self-signed|unable to verify|certificate/i);
  await assert.rejects(peer({ maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }), /version|protocol|alert/i);
  assert.equal(cert.namedCurve, 'brainpoolP256r1');
  assert.ok(cert.subjectAltNames.ip.includes('127.0.0.1'));
});

test('logs hold no identity data and no per-user client history (A_18859)', async () => {
  const marker = issueTestSigner(fx.pkiService.pki, { profile: 'C.CH.AUT', kvnr: 'K123456780', subject: { givenName: 'Mira', surname: 'Loganova' } });
  const from = fx.logs.length;
  await login(fx, marker.signer, APP_CLIENT);
  const doc = await discover(fx);
  await authorize(fx, doc, { state: 'x', code_challenge: 'short' });
  const lines = fx.logs.slice(from).join('\n');
  for (const secret of ['K123456780', 'Mira', 'Loganova']) assert.ok(!lines.includes(secret), `log contains ${secret}:\n${lines}`);
  assert.ok(!fx.logs.join('\n').includes('X110540756'));
});
