/**
 * Every refusal of the simulated IDP, in the gematik error model: the authorization request
 * (400 JSON vs. 302 to the client), the signed challenge (challenge lifetime and single use, the
 * card's signature, AUT certificate chain / type / validity / OCSP via the PKI, A_18819), the
 * consent, and the token endpoint (PKCE, key_verifier, code lifetime, single use, bindings).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CTY_NESTED_JWT, parseIdpErrorRedirect, type ChallengeResponse, type IdpDiscoveryDocument } from '../../../simulators/lib/idp-protocol';
import { encryptJweEcdhEs } from '../../../simulators/lib/jose';
import { loadOrCreatePki } from '../../../simulators/pki/hierarchy';
import { issueTestSigner, type TestSigner } from '../../../simulators/idp/testing/software-signer';
import {
  APP_CLIENT,
  PS_CLIENT,
  authorize,
  cardJws,
  challengeClaims,
  discover,
  keyVerifier,
  keys,
  pkce,
  postSignedChallenge,
  redeem,
  redirectParams,
  request,
  sealSignedChallenge,
  signChallenge,
  startIdpFixture,
  type IdpFixture,
  type Jwks,
  type Pkce,
  type Reply,
} from './helpers';

let fx: IdpFixture;
let prod: IdpFixture;
let doc: IdpDiscoveryDocument;
let jwks: Jwks;
let smcb: TestSigner;

before(async () => {
  fx = await startIdpFixture();
  prod = await startIdpFixture({ config: { profile: 'production' }, pkiService: fx.pkiService, tmp: fs.mkdtempSync(path.join(fx.tmp, 'prod-')) });
  doc = await discover(fx);
  jwks = await keys(fx, doc);
  smcb = issueTestSigner(fx.pkiService.pki, { profile: 'C.HCI.AUT', telematikId: '1-SMC-B-negativ-01' });
});
after(async () => {
  await prod?.stop();
  await fx?.stop();
});

function jsonError(r: Reply, code: string, error: string, status = 400): Record<string, any> {
  assert.equal(r.status, status, `expected HTTP ${status} with gematik_code ${code}, got ${r.status}: ${r.text} ${r.location ?? ''}`);
  const b = r.json();
  assert.equal(b.gematik_code, code, r.text);
  assert.equal(b.error, error, r.text);
  assert.equal(typeof b.gematik_timestamp, 'number');
  assert.match(b.gematik_uuid, /^[0-9a-f-]{36}$/);
  assert.equal(typeof b.gematik_error_text, 'string');
  return b;
}

function redirectError(r: Reply, redirectUri: string, code: string, error: string): ReturnType<typeof parseIdpErrorRedirect> & object {
  assert.equal(r.status, 302, `expected a 302 with gematik_code ${code}, got ${r.status}: ${r.text}`);
  assert.ok(r.location?.startsWith(`${redirectUri}?`), r.location);
  const e = parseIdpErrorRedirect(r.location as string);
  assert.ok(e, r.location);
  assert.equal(e.gematik_code, code, r.location);
  assert.equal(e.error, error);
  assert.equal(new URL(r.location as string).searchParams.get('code'), null, 'no code with an error');
  return e;
}

async function challenge(f: IdpFixture = fx, p: Pkce = pkce(), client = PS_CLIENT, extra: Record<string, string> = {}): Promise<ChallengeResponse> {
  const d = f === fx ? doc : await discover(f);
  const r = await authorize(f, d, { client_id: client.client_id, redirect_uri: client.redirect_uri, pkce: p, ...extra });
  assert.equal(r.status, 200, r.text);
  return r.json();
}

/** Card flow up to the code (consent granted when asked); returns the code and PKCE. */
async function code(signer = smcb.signer, client = PS_CLIENT): Promise<{ code: string; p: Pkce }> {
  const p = pkce();
  const ch = await challenge(fx, p, client);
  let r = await postSignedChallenge(fx, doc, await signChallenge(signer, ch.challenge, jwks.enc));
  if (r.status === 200) {
    const c = r.json();
    r = await request(fx, 'POST', doc.consent_endpoint, { form: { consent_token: c.consent_token, consent: 'granted', consented_claims: Object.keys(c.requested_claims).join(' ') } });
  }
  return { code: redirectParams(r).get('code') as string, p };
}

// ------------------------------------------------------------------------------------------- authorization request

test('authorization request: client_id and redirect_uri errors are 400 JSON (no redirect to an unverified URI; A_18811, A_18812)', async () => {
  const b = jsonError(await authorize(fx, doc, { client_id: 'unregistered-client' }), '2012', 'invalid_request');
  assert.equal(b.gematik_error_text, 'client_id ist ungültig');
  jsonError(await authorize(fx, doc, {}, ['client_id']), '1002', 'invalid_request');
  jsonError(await authorize(fx, doc, {}, ['redirect_uri']), '1004', 'invalid_request');
  const wrong = await authorize(fx, doc, { redirect_uri: 'http://test-ps.gematik.de/erezept/evil' });
  assert.equal(jsonError(wrong, '1020', 'invalid_request').gematik_error_text, 'redirect_uri ist ungültig');
  assert.equal(wrong.location, undefined);
  jsonError(await authorize(fx, doc, { redirect_uri: APP_CLIENT.redirect_uri }), '1020', 'invalid_request');
  jsonError(await request(fx, 'GET', `${doc.authorization_endpoint}?client_id=a&client_id=b`), '2011', 'invalid_request');
});

test('authorization request: parameter errors of a known client go to its redirect_uri (302) with state', async () => {
  const uri = PS_CLIENT.redirect_uri;
  const noPkce = redirectError(await authorize(fx, doc, { state: 'keep-me' }, ['code_challenge']), uri, '2009', 'invalid_request');
  assert.equal(noPkce.state, 'keep-me');
  assert.equal(noPkce.gematik_error_text, 'code_challenge wurde nicht übermittelt');
  redirectError(await authorize(fx, doc, { code_challenge: 'too-short' }), uri, '2010', 'invalid_request');
  redirectError(await authorize(fx, doc, { code_challenge_method: 'plain' }), uri, '2008', 'invalid_request');
  redirectError(await authorize(fx, doc, {}, ['code_challenge_method']), uri, '2008', 'invalid_request');
  const noState = redirectError(await authorize(fx, doc, {}, ['state']), uri, '2002', 'invalid_request');
  assert.equal(noState.state, undefined);
  redirectError(await authorize(fx, doc, {}, ['response_type']), uri, '2004', 'invalid_request');
  // A_18815: only the authorization code grant (no implicit / hybrid flow).
  const implicit = redirectError(await authorize(fx, doc, { response_type: 'token' }), uri, '2005', 'unsupported_response_type');
  assert.equal(implicit.gematik_error_text, 'response_type wird nicht unterstützt');
  redirectError(await authorize(fx, doc, { response_type: 'code id_token' }), uri, '2005', 'unsupported_response_type');
  redirectError(await authorize(fx, doc, {}, ['scope']), uri, '1005', 'invalid_request');
  redirectError(await authorize(fx, doc, { scope: 'openid' }), uri, '1022', 'invalid_scope');
  redirectError(await authorize(fx, doc, { scope: 'e-rezept' }), uri, '1022', 'invalid_scope');
  redirectError(await authorize(fx, doc, { scope: 'openid e-rezept vzd' }), uri, '1030', 'invalid_scope');
  redirectError(await authorize(fx, doc, { nonce: '' }), uri, '2007', 'invalid_request');
});

test('profiles: state/nonce longer than 32 characters and scope errors — reference accepts / redirects, production refuses / answers 400', async () => {
  const long = 'abcdefghijklmnopqrstuvwxyz0123456';
  assert.equal((await authorize(fx, doc, { state: long, nonce: long })).status, 200, 'reference IDP: no length limit');
  const pdoc = await discover(prod);
  const uri = PS_CLIENT.redirect_uri;
  const st = redirectError(await authorize(prod, pdoc, { state: long }), uri, '2006', 'invalid_request');
  assert.equal(st.state, undefined, 'an invalid state is not echoed');
  redirectError(await authorize(prod, pdoc, { nonce: long }), uri, '2007', 'invalid_request');
  assert.equal((await authorize(prod, pdoc, { state: long.slice(0, 32), nonce: long.slice(0, 32) })).status, 200, '32 characters are fine');
  redirectError(await authorize(prod, pdoc, { state: 'tab\there' }), uri, '2006', 'invalid_request');
  jsonError(await authorize(prod, pdoc, { scope: 'openid' }), '1022', 'invalid_scope');
  jsonError(await authorize(prod, pdoc, { redirect_uri: `${uri}?${'x'.repeat(2000)}` }), '1020', 'invalid_request');
});

// ------------------------------------------------------------------------------------------- signed challenge

test('signed challenge: expired (simulated clock past 180 s) → 2032; replayed → 2030; missing → 2030', async () => {
  const ch = await challenge();
  const claims = challengeClaims(ch.challenge);
  assert.equal(claims.exp - claims.iat, 180);
  const signed = await signChallenge(smcb.signer, ch.challenge, jwks.enc);
  fx.clock.advance(181_000);
  const expired = jsonError(await postSignedChallenge(fx, doc, signed), '2032', 'invalid_request');
  assert.equal(expired.gematik_error_text, 'Challenge ist abgelaufen');

  const ch2 = await challenge();
  const signed2 = await signChallenge(smcb.signer, ch2.challenge, jwks.enc);
  const first = await postSignedChallenge(fx, doc, signed2);
  assert.ok(first.status === 200 || first.status === 302, first.text);
  jsonError(await postSignedChallenge(fx, doc, signed2), '2030', 'invalid_request');
  // A second signature over the same challenge is a replay too.
  jsonError(await postSignedChallenge(fx, doc, await signChallenge(smcb.signer, ch2.challenge, jwks.enc)), '2030', 'invalid_request');
  jsonError(await postSignedChallenge(fx, doc, undefined), '2030', 'invalid_request');
  jsonError(await postSignedChallenge(fx, doc, 'not.a.jwe'), '2030', 'invalid_request');
});

test('signed challenge: a challenge not issued by this IDP, a broken card signature, no x5c, another algorithm', async () => {
  const ch = await challenge();
  // The challenge signed by the card but altered (not the IDP's signature any more).
  const parts = ch.challenge.split('.');
  const forged = `${parts[0]}.${Buffer.from(JSON.stringify({ ...challengeClaims(ch.challenge), state: 'forged-state' })).toString('base64url')}.${parts[2]}`;
  jsonError(await postSignedChallenge(fx, doc, sealSignedChallenge(await cardJws(smcb.signer, forged), jwks.enc, challengeClaims(ch.challenge).exp)), '2030', 'invalid_request');
  // The card's signature does not verify.
  const good = await cardJws(smcb.signer, ch.challenge);
  const [h, p, s] = good.split('.');
  const sig = Buffer.from(s, 'base64url');
  sig[10] ^= 0x01;
  const badSig = `${h}.${p}.${sig.toString('base64url')}`;
  const b = jsonError(await postSignedChallenge(fx, doc, sealSignedChallenge(badSig, jwks.enc, challengeClaims(ch.challenge).exp)), '2013', 'invalid_request');
  assert.equal(b.gematik_error_text, 'Der Request besitzt keine gültige Signatur');
  jsonError(
    await postSignedChallenge(fx, doc, sealSignedChallenge(await cardJws(smcb.signer, ch.challenge, { x5c: undefined }), jwks.enc, challengeClaims(ch.challenge).exp)),
    '2044',
    'invalid_request',
  );
  jsonError(await postSignedChallenge(fx, doc, sealSignedChallenge(await cardJws(smcb.signer, ch.challenge, { alg: 'ES256' }), jwks.enc, challengeClaims(ch.challenge).exp)), '2003', 'invalid_request');
  // The JWE without exp header / with wrong cty.
  const inner = JSON.stringify({ njwt: good });
  jsonError(await postSignedChallenge(fx, doc, encryptJweEcdhEs(inner, jwks.enc as never, { header: { cty: CTY_NESTED_JWT } })), '2031', 'invalid_request');
  jsonError(await postSignedChallenge(fx, doc, encryptJweEcdhEs(inner, jwks.enc as never, { header: { cty: 'JWT', exp: 9999999999 } })), '2030', 'invalid_request');
  // The challenge still works: none of the refusals consumed it.
  const ok = await postSignedChallenge(fx, doc, sealSignedChallenge(good, jwks.enc, challengeClaims(ch.challenge).exp));
  assert.ok(ok.status === 200 || ok.status === 302, ok.text);
});

async function certificateRefusal(signer: TestSigner['signer']): Promise<Record<string, any>> {
  const ch = await challenge();
  return jsonError(await postSignedChallenge(fx, doc, await signChallenge(signer, ch.challenge, jwks.enc)), '2020', 'invalid_request');
}

test('AUT certificate via the PKI (A_18819): revoked (PKI admin) → 2020 and the PKI logged the IDP\'s OCSP request', async () => {
  const victim = issueTestSigner(fx.pkiService.pki, { profile: 'C.CH.AUT' });
  const since = new Date(Date.now() - 1000).toISOString();
  // Good first: the PKI sees the OCSP request for this serial.
  await code(victim.signer, APP_CLIENT);
  const log1 = (await request(fx, 'GET', `${fx.pkiService.url}/__admin/ocsp/requests?serial=${victim.issued.serialNumber}&since=${since}`)).json();
  assert.ok(log1.requests.length >= 1, 'the IDP asked the PKI');
  assert.deepEqual(log1.requests.at(-1).statuses, ['good']);
  const rev = await request(fx, 'POST', `${fx.pkiService.url}/__admin/certificates/${victim.issued.serialNumber}/revoke`, { body: '{"reason":"keyCompromise"}', headers: { 'content-type': 'application/json' } });
  assert.equal(rev.status, 200, rev.text);
  const b = await certificateRefusal(victim.signer);
  assert.equal(b.gematik_error_text, 'Das AUT Zertifikat ist ungültig');
  assert.match(b.error_description, /revoked/);
  const log2 = (await request(fx, 'GET', `${fx.pkiService.url}/__admin/ocsp/requests?serial=${victim.issued.serialNumber}`)).json();
  assert.deepEqual(log2.requests.at(-1).statuses, ['revoked']);
});

test('AUT certificate: expired, QES instead of AUT, ENC instead of AUT, foreign PKI, no idNummer → 2020', async () => {
  const pki = fx.pkiService.pki;
  const expired = issueTestSigner(pki, { profile: 'C.HCI.AUT', notBefore: new Date(Date.now() - 10 * 86400_000), notAfter: new Date(Date.now() - 86400_000) });
  assert.match((await certificateRefusal(expired.signer)).error_description, /not valid at/);
  const qes = issueTestSigner(pki, { profile: 'C.HP.QES' });
  assert.match((await certificateRefusal(qes.signer)).error_description, /not an AUT certificate/);
  const enc = issueTestSigner(pki, { profile: 'C.CH.ENC' });
  assert.match((await certificateRefusal(enc.signer)).error_description, /not an AUT certificate/);
  const foreignDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-idp-foreign-'));
  try {
    const foreign = issueTestSigner(await loadOrCreatePki(foreignDir), { profile: 'C.HCI.AUT' });
    assert.match((await certificateRefusal(foreign.signer)).error_description, /issuer unknown/);
  } finally {
    fs.rmSync(foreignDir, { recursive: true, force: true });
  }
  const anonymous = issueTestSigner(pki, { profile: 'C.HCI.AUT', telematikId: null });
  assert.match((await certificateRefusal(anonymous.signer)).error_description, /idNummer/);
});

test('OCSP responder unreachable (admin fault) → 2021; back to normal afterwards', async () => {
  const set = async (v: boolean) => (await request(fx, 'POST', `${fx.idp.url}/__admin/faults`, { body: JSON.stringify({ ocspUnreachable: v }), headers: { 'content-type': 'application/json' } })).json();
  assert.deepEqual(await set(true), { ocspUnreachable: true });
  try {
    const ch = await challenge();
    const b = jsonError(await postSignedChallenge(fx, doc, await signChallenge(smcb.signer, ch.challenge, jwks.enc)), '2021', 'invalid_request');
    assert.equal(b.gematik_error_text, 'Keine Antwort des OCSP oder Timeout');
  } finally {
    await set(false);
  }
  assert.ok((await code()).code);
});

// ------------------------------------------------------------------------------------------- consent

test('consent: denied → 302 access_denied without code; claims not equal to the requested ones → 400 2042; consent token single use', async () => {
  let person = issueTestSigner(fx.pkiService.pki, { profile: 'C.CH.AUT' });
  const startConsent = async () => {
    const ch = await challenge(fx, pkce(), APP_CLIENT, { state: 'consent-state' });
    const r = await postSignedChallenge(fx, doc, await signChallenge(person.signer, ch.challenge, jwks.enc));
    assert.equal(r.status, 200, `${r.text} ${r.location ?? ''}`);
    assert.equal(r.json().consent_required, true);
    return r.json();
  };
  const c1 = await startConsent();
  const denied = await request(fx, 'POST', doc.consent_endpoint, { form: { consent_token: c1.consent_token, consent: 'denied' } });
  const e = redirectError(denied, APP_CLIENT.redirect_uri, '2042', 'access_denied');
  assert.equal(e.state, 'consent-state');
  assert.equal(new URL(denied.location as string).searchParams.get('ssotoken'), null);

  const c2 = await startConsent();
  const claims = Object.keys(c2.requested_claims);
  const post = (consented: string, token = c2.consent_token) =>
    request(fx, 'POST', doc.consent_endpoint, { form: { consent_token: token, consent: 'granted', consented_claims: consented } });
  jsonError(await post(claims.slice(1).join(' ')), '2042', 'access_denied');
  jsonError(await post([...claims, 'birthdate'].join(' ')), '2042', 'access_denied');
  jsonError(await post(''), '2042', 'access_denied');
  jsonError(await request(fx, 'POST', doc.consent_endpoint, { form: { consent_token: c2.consent_token, consent: 'maybe' } }), '2042', 'access_denied');
  const granted = await post(claims.reverse().join(' '));
  assert.ok(redirectParams(granted).get('code'), 'the refused attempts did not use up the consent token');
  jsonError(await post(claims.join(' ')), '2030', 'invalid_request');
  jsonError(await post(claims.join(' '), 'garbage'), '2030', 'invalid_request');
  // Expired consent token (another person: the first one has consented now).
  person = issueTestSigner(fx.pkiService.pki, { profile: 'C.CH.AUT' });
  const c3 = await startConsent();
  fx.clock.advance(61_000);
  jsonError(await post(claims.join(' '), c3.consent_token), '2032', 'invalid_request');
});

// ------------------------------------------------------------------------------------------- token endpoint

test('token endpoint: PKCE — wrong verifier → 3000, malformed → 3016, missing → 3004 (code stays usable until redeemed)', async () => {
  const { code: c, p } = await code();
  const req = (kv: string) => redeem(fx, doc, { code: c, client_id: PS_CLIENT.client_id, redirect_uri: PS_CLIENT.redirect_uri, key_verifier: kv });
  const wrong = jsonError(await req(keyVerifier(jwks.enc, pkce().verifier).jwe), '3000', 'invalid_grant');
  assert.equal(wrong.gematik_error_text, 'code_verifier stimmt nicht mit code_challenge überein');
  jsonError(await req(keyVerifier(jwks.enc, 'short').jwe), '3016', 'invalid_request');
  jsonError(await req(keyVerifier(jwks.enc, undefined).jwe), '3004', 'invalid_request');
  assert.equal((await req(keyVerifier(jwks.enc, p.verifier).jwe)).status, 200);
});

test('token endpoint: key_verifier unreadable → 3021, token_key missing → 3022, not 32 bytes → 3023, key_verifier missing → 3020', async () => {
  const { code: c, p } = await code();
  const base = { code: c, client_id: PS_CLIENT.client_id, redirect_uri: PS_CLIENT.redirect_uri };
  jsonError(await redeem(fx, doc, { ...base, key_verifier: 'eyJhbGciOiJFQ0RILUVTIn0.x.y.z.w' }), '3021', 'invalid_request');
  const noKey = encryptJweEcdhEs(JSON.stringify({ code_verifier: p.verifier }), jwks.enc as never, { header: { cty: 'JSON' } });
  jsonError(await redeem(fx, doc, { ...base, key_verifier: noKey }), '3022', 'invalid_request');
  jsonError(await redeem(fx, doc, { ...base, key_verifier: keyVerifier(jwks.enc, p.verifier, Buffer.alloc(16)).jwe }), '3023', 'invalid_request');
  jsonError(await request(fx, 'POST', doc.token_endpoint, { form: { grant_type: 'authorization_code', ...base } }), '3020', 'invalid_request');
});

test('token endpoint: code replay refused (stricter than the reference IDP), code expires after 60 s (simulated clock)', async () => {
  const { code: c, p } = await code();
  const req = () => redeem(fx, doc, { code: c, client_id: PS_CLIENT.client_id, redirect_uri: PS_CLIENT.redirect_uri, key_verifier: keyVerifier(jwks.enc, p.verifier).jwe });
  assert.equal((await req()).status, 200);
  jsonError(await req(), '3013', 'invalid_grant');
  const late = await code();
  fx.clock.advance(61_000);
  const expired = jsonError(
    await redeem(fx, doc, { code: late.code, client_id: PS_CLIENT.client_id, redirect_uri: PS_CLIENT.redirect_uri, key_verifier: keyVerifier(jwks.enc, late.p.verifier).jwe }),
    '3011',
    'invalid_grant',
  );
  assert.equal(expired.gematik_error_text, 'Authorization Code ist abgelaufen');
});

test('token endpoint: client binding (3007), redirect_uri binding (1020), unregistered client (3007), grant types (A_18815), missing parameters', async () => {
  const { code: c, p } = await code();
  const kv = () => keyVerifier(jwks.enc, p.verifier).jwe;
  const other = jsonError(await redeem(fx, doc, { code: c, client_id: APP_CLIENT.client_id, redirect_uri: PS_CLIENT.redirect_uri, key_verifier: kv() }), '3007', 'invalid_client');
  assert.equal(other.gematik_error_text, 'client_id ist ungültig');
  jsonError(await redeem(fx, doc, { code: c, client_id: 'unregistered', redirect_uri: PS_CLIENT.redirect_uri, key_verifier: kv() }), '3007', 'invalid_client');
  jsonError(await redeem(fx, doc, { code: c, client_id: PS_CLIENT.client_id, redirect_uri: 'http://test-ps.gematik.de/other', key_verifier: kv() }), '1020', 'invalid_request');
  for (const grant of ['password', 'client_credentials', 'implicit', 'refresh_token']) {
    jsonError(await redeem(fx, doc, { code: c, client_id: PS_CLIENT.client_id, redirect_uri: PS_CLIENT.redirect_uri, key_verifier: kv(), grant_type: grant }), '3014', 'unsupported_grant_type');
  }
  jsonError(await request(fx, 'POST', doc.token_endpoint, { form: { code: c } }), '3006', 'invalid_request');
  jsonError(await request(fx, 'POST', doc.token_endpoint, { form: { grant_type: 'authorization_code', client_id: PS_CLIENT.client_id } }), '3005', 'invalid_request');
  jsonError(await request(fx, 'POST', doc.token_endpoint, { form: { grant_type: 'authorization_code', code: c } }), '1002', 'invalid_request');
  jsonError(await redeem(fx, doc, { code: 'garbage', client_id: PS_CLIENT.client_id, redirect_uri: PS_CLIENT.redirect_uri, key_verifier: kv() }), '3013', 'invalid_grant');
  jsonError(await request(fx, 'POST', doc.token_endpoint, { body: `grant_type=authorization_code&grant_type=authorization_code&code=${c}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), '3002', 'invalid_request');
  // After all refusals the code is still good for its client.
  assert.equal((await redeem(fx, doc, { code: c, client_id: PS_CLIENT.client_id, redirect_uri: PS_CLIENT.redirect_uri, key_verifier: kv() })).status, 200);
});

test('bad input never crashes: oversized body → 413, wrong method → 405, random bytes → gematik error', async () => {
  const big = await request(fx, 'POST', doc.token_endpoint, { body: 'x='.padEnd(70 * 1024, 'a'), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(big.status, 413);
  assert.equal((await request(fx, 'PUT', doc.token_endpoint)).status, 405);
  jsonError(await request(fx, 'POST', doc.authorization_endpoint, { body: '\u0000\u00ff%%%&&==', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), '2030', 'invalid_request');
  jsonError(await request(fx, 'POST', doc.sso_endpoint, { form: { ssotoken: 'x', unsigned_challenge: 'y' } }), '2030', 'invalid_request');
  assert.equal((await request(fx, 'GET', `${fx.idp.url}/__admin/health`)).json().status, 'ok');
});
