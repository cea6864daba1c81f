/**
 * IdpClient against a fake IDP over real TLS: discovery checks (signature, chain to the PKI root,
 * role, kid, exp, issuer, content type), transport (HTTPS only, PKI trust anchor) and the
 * relying party's token endpoint checks (key_verifier, decryption, signature, nonce, aud).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { generateBp256KeyPair } from '../../../simulators/lib/bp256';
import { verifyJws } from '../../../simulators/lib/jose';
import { IdpClient, IdpError, IdpProtocolError, discover, type IdpTrust } from '../../../simulators/lib/idp-client';
import { loadOrCreatePki } from '../../../simulators/pki/hierarchy';
import { startFakeIdp, tempDir, testPki, type FakeIdp } from './helpers';

let idp: FakeIdp;
let trust: IdpTrust;

before(async () => {
  idp = await startFakeIdp();
  const pki = await testPki();
  trust = { rootPem: pki.rootCertificatePem, caPems: [pki.cas['komp-ca'].certificatePem] };
});
after(async () => idp?.stop());

const rp = { clientId: 'gematikTestPs', redirectUri: 'http://test-ps.gematik.de/erezept', scope: 'openid e-rezept' };

function reset(): void {
  for (const k of Object.keys(idp.behaviour)) delete (idp.behaviour as Record<string, unknown>)[k];
}

async function rejects(p: Promise<unknown>, code: string): Promise<IdpProtocolError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof IdpProtocolError, `expected IdpProtocolError ${code}, got ${(e as Error)?.stack}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected IdpProtocolError ${code}, nothing was thrown`);
}

test('discovery: signature by a C.IDP.SIG chained to the PKI root, both keys fetched', async () => {
  reset();
  const d = await discover(idp.url, { trust });
  assert.equal(d.document.issuer, idp.url);
  assert.equal(d.document.token_endpoint, `${idp.url}/token`);
  assert.equal(d.idpEnc.jwk.kid, 'puk_idp_enc');
  assert.equal(d.idpSig.jwk.kid, 'puk_idp_sig');
  assert.ok(d.idpSig.certificate, 'puk_idp_sig certificate kept');
  assert.ok(d.expiresAtMs > Date.now());
  // the same with root + CA PEMs given separately (the brief's discover(issuer, {trustRootPem}) shape)
  const d2 = await discover(idp.url, { trustRootPem: trust.rootPem, caPems: trust.caPems });
  assert.equal(d2.document.issuer, idp.url);
});

test('discovery: root only, without the issuing CA, does not chain', async () => {
  reset();
  const e = await rejects(discover(idp.url, { trustRootPem: trust.rootPem }), 'UNTRUSTED_CERTIFICATE');
  assert.match(e.message, /does not chain/);
});

test('discovery: a signer from another PKI is refused', async () => {
  reset();
  const foreign = await loadOrCreatePki(tempDir('foreign-pki-'));
  const cert = foreign.issue({ profile: 'C.IDP.SIG' });
  idp.behaviour.discoverySigner = { key: cert.privateKey, certificate: cert.certificate };
  await rejects(discover(idp.url, { trust }), 'UNTRUSTED_CERTIFICATE');
});

test('discovery: a certificate of our PKI without the IDP role is refused', async () => {
  reset();
  const pki = await testPki();
  const fd = pki.issue({ profile: 'C.FD.SIG' });
  idp.behaviour.discoverySigner = { key: fd.privateKey, certificate: fd.certificate };
  const e = await rejects(discover(idp.url, { trust }), 'UNTRUSTED_CERTIFICATE');
  assert.match(e.message, /oid_idpd/);
});

test('discovery: tampered payload, wrong kid, expired, foreign issuer, wrong content type', async () => {
  reset();
  idp.behaviour.tamperDiscovery = true;
  await rejects(discover(idp.url, { trust }), 'BAD_SIGNATURE');
  reset();
  idp.behaviour.discoveryKid = 'puk_idp_sig';
  await rejects(discover(idp.url, { trust }), 'DISCOVERY_INVALID');
  reset();
  idp.behaviour.discoveryExpOffsetS = -10;
  await rejects(discover(idp.url, { trust }), 'DISCOVERY_EXPIRED');
  reset();
  idp.behaviour.discoveryIssuer = 'https://idp.example';
  await rejects(discover(idp.url, { trust }), 'ISSUER_MISMATCH');
  reset();
  idp.behaviour.discoveryContentType = 'application/json';
  await rejects(discover(idp.url, { trust }), 'DISCOVERY_INVALID');
  reset();
});

test('transport: http URLs are refused, a TLS server outside the PKI fails the handshake', async () => {
  reset();
  assert.throws(() => new IdpClient(idp.url.replace('https:', 'http:'), { trust }), (e: unknown) => e instanceof IdpProtocolError && e.code === 'INSECURE_URL');
  const foreign = await loadOrCreatePki(tempDir('foreign-tls-'));
  const foreignTrust = { rootPem: foreign.rootCertificatePem, caPems: [foreign.cas['komp-ca'].certificatePem] };
  const client = new IdpClient(idp.url, { trust: foreignTrust });
  await rejects(client.discover(), 'TLS');
  assert.equal(client.log.records.at(-1)?.status, 0, 'the failed exchange is logged');
});

test('authorization request: PKCE S256, state, nonce, endpoint from discovery', async () => {
  reset();
  const client = new IdpClient(idp.url, { trust });
  const req = await client.createAuthorizationRequest(rp);
  const url = new URL(req.url);
  assert.equal(`${url.origin}${url.pathname}`, `${idp.url}/sign_response`);
  assert.equal(url.searchParams.get('client_id'), rp.clientId);
  assert.equal(url.searchParams.get('response_type'), 'code');
  assert.equal(url.searchParams.get('redirect_uri'), rp.redirectUri);
  assert.equal(url.searchParams.get('scope'), 'openid e-rezept');
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(url.searchParams.get('state'), req.state);
  assert.equal(url.searchParams.get('nonce'), req.nonce);
  assert.equal(url.searchParams.get('prompt'), null);
  assert.ok(req.state.length >= 16 && req.state.length <= 32);
  assert.equal(url.searchParams.get('code_challenge'), req.codeChallenge);
  const forced = await client.createAuthorizationRequest(rp, { prompt: 'login' });
  assert.equal(new URL(forced.url).searchParams.get('prompt'), 'login');
  assert.notEqual(forced.state, req.state);
});

test('token endpoint: key_verifier carries token_key and code_verifier; tokens decrypted and verified', async () => {
  reset();
  const client = new IdpClient(idp.url, { trust });
  const req = await client.createAuthorizationRequest(rp);
  const tokens = await client.redeemCode({ relyingParty: rp, code: 'CODE-1', codeVerifier: req.codeVerifier, nonce: 'NONCE-FROM-CODE' });
  const sent = idp.tokenRequests.at(-1);
  assert.ok(sent);
  assert.deepEqual(Object.keys(sent.form).sort(), ['client_id', 'code', 'grant_type', 'key_verifier', 'redirect_uri']);
  assert.equal(sent.form.grant_type, 'authorization_code');
  assert.equal(sent.form.code, 'CODE-1');
  assert.equal(sent.keyVerifier.code_verifier, req.codeVerifier);
  assert.equal(Buffer.from(String(sent.keyVerifier.token_key), 'base64url').length, 32);
  assert.equal(sent.keyVerifierHeader.alg, 'ECDH-ES');
  assert.equal(sent.keyVerifierHeader.enc, 'A256GCM');
  assert.equal(sent.keyVerifierHeader.cty, 'JSON');
  assert.equal(verifyJws(tokens.accessToken, idp.sigKey, { typ: 'at+JWT' }).header.typ, 'at+JWT');
  assert.equal(tokens.idTokenClaims.aud, rp.clientId);
  assert.equal(tokens.accessTokenClaims.client_id, rp.clientId);
  assert.equal(tokens.expiresIn, 300);
  assert.ok(tokens.expiresAtMs - tokens.issuedAtMs === 300_000);
  // the log names the form parameters, never their values
  const rec = client.log.records.find((r) => r.url.endsWith('/token'));
  assert.ok(rec);
  assert.deepEqual(rec.formParams, ['grant_type', 'code', 'client_id', 'redirect_uri', 'key_verifier']);
  assert.equal(JSON.stringify(client.log.records).includes('CODE-1'), false);
});

test('token endpoint: client_secret only for web clients', async () => {
  reset();
  const client = new IdpClient(idp.url, { trust });
  await client.redeemCode({ relyingParty: { ...rp, clientSecret: 's3cret' }, code: 'C', codeVerifier: 'a'.repeat(43), nonce: 'NONCE-FROM-CODE' });
  assert.equal(idp.tokenRequests.at(-1)?.form.client_secret, 's3cret');
});

test('token endpoint: nonce, audience, signature and IDP errors are detected', async () => {
  reset();
  const client = new IdpClient(idp.url, { trust });
  const redeem = () => client.redeemCode({ relyingParty: rp, code: 'C', codeVerifier: 'a'.repeat(43), nonce: 'NONCE-FROM-CODE' });
  await rejects(client.redeemCode({ relyingParty: rp, code: 'C', codeVerifier: 'a'.repeat(43), nonce: 'other' }), 'NONCE_MISMATCH');
  idp.behaviour.idTokenClaims = { aud: 'eRezeptApp' };
  await rejects(redeem(), 'AUDIENCE_MISMATCH');
  reset();
  idp.behaviour.idTokenClaims = { exp: Math.floor(Date.now() / 1000) - 5 };
  await rejects(redeem(), 'TOKEN_EXPIRED');
  reset();
  idp.behaviour.tokenSigningKey = generateBp256KeyPair().privateKey;
  await rejects(redeem(), 'BAD_SIGNATURE');
  reset();
  idp.behaviour.tokenError = { error: 'invalid_grant', gematik_code: '3011', gematik_error_text: 'Authorization Code ist abgelaufen', gematik_uuid: 'u-1', gematik_timestamp: 1700000000 };
  await assert.rejects(redeem(), (e: unknown) => e instanceof IdpError && e.status === 400 && e.error === 'invalid_grant' && e.gematikCode === '3011' && e.source === 'json');
  reset();
});
