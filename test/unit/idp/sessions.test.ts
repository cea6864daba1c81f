/**
 * What happens after login: introspection (RFC 7662) for relying parties, token lifetime by the
 * simulated clock (A_18860), revocation by the user (A_18857), logout ending the session and every
 * token issued from it (A_18858), SSO lifetime, and the SSO differences of the production profile.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateBp256KeyPair } from '../../../simulators/lib/bp256';
import { signJws } from '../../../simulators/lib/jose';
import type { IdpDiscoveryDocument } from '../../../simulators/lib/idp-protocol';
import { issueTestSigner, type TestSigner } from '../../../simulators/idp/testing/software-signer';
import {
  APP_CLIENT,
  PS_CLIENT,
  authorize,
  discover,
  jwsClaims,
  keyVerifier,
  login,
  pkce,
  redeem,
  redirectParams,
  request,
  startIdpFixture,
  type IdpFixture,
  type LoginResult,
} from './helpers';

let fx: IdpFixture;
let egk: TestSigner;

before(async () => {
  fx = await startIdpFixture();
  egk = issueTestSigner(fx.pkiService.pki, { profile: 'C.CH.AUT' });
});
after(async () => fx?.stop());

async function introspect(f: IdpFixture, doc: IdpDiscoveryDocument, token: string): Promise<Record<string, any>> {
  const r = await request(f, 'POST', doc.introspection_endpoint, { form: { token } });
  assert.equal(r.status, 200, r.text);
  return r.json();
}

async function viaSso(f: IdpFixture, l: LoginResult, client = APP_CLIENT, extra: Record<string, string> = {}) {
  const doc = await discover(f);
  const p = pkce();
  const a = await authorize(f, doc, { client_id: client.client_id, redirect_uri: client.redirect_uri, pkce: p, ...extra });
  assert.equal(a.status, 200, a.text);
  return { r: await request(f, 'POST', doc.sso_endpoint, { form: { ssotoken: l.ssoToken, unsigned_challenge: a.json().challenge } }), p, doc };
}

test('introspection: active with the token claims; inactive when expired by the simulated clock (A_18860), foreign-signed or garbage', async () => {
  const l = await login(fx, egk.signer, APP_CLIENT);
  const active = await introspect(fx, l.doc, l.accessJws);
  assert.equal(active.active, true);
  assert.equal(active.token_type, 'Bearer');
  assert.equal(active.sub, l.access.sub);
  assert.equal(active.aud, l.access.aud);
  assert.equal(active.exp, l.access.exp);
  // An ID token is not an access token.
  assert.deepEqual(await introspect(fx, l.doc, l.idJws), { active: false });
  // Same claims, other key.
  const foreign = signJws(l.access, generateBp256KeyPair().privateKey, { kid: 'puk_idp_sig', typ: 'at+JWT' });
  assert.deepEqual(await introspect(fx, l.doc, foreign), { active: false });
  assert.deepEqual(await introspect(fx, l.doc, 'garbage'), { active: false });
  assert.deepEqual(await introspect(fx, l.doc, l.tokens.access_token), { active: false }, 'the encrypted form is not introspectable');
  const missing = await request(fx, 'POST', l.doc.introspection_endpoint, { form: {} });
  assert.equal(missing.status, 400);
  assert.equal(missing.json().error, 'invalid_request');
  fx.clock.advance(299_000);
  assert.equal((await introspect(fx, l.doc, l.accessJws)).active, true, 'still valid at 299 s');
  fx.clock.advance(2_000);
  assert.deepEqual(await introspect(fx, l.doc, l.accessJws), { active: false }, 'expired at 300 s');
});

test('revocation (A_18857, RFC 7009): the revoked token is inactive, the other token of the session stays active; by jti too', async () => {
  const l1 = await login(fx, egk.signer, APP_CLIENT);
  const l2 = await login(fx, egk.signer, APP_CLIENT);
  const r = await request(fx, 'POST', l1.doc.revocation_endpoint, { form: { token: l1.accessJws } });
  assert.equal(r.status, 200);
  assert.deepEqual(await introspect(fx, l1.doc, l1.accessJws), { active: false });
  assert.equal((await introspect(fx, l1.doc, l2.accessJws)).active, true);
  const byJti = await request(fx, 'POST', l1.doc.revocation_endpoint, { form: { token: l2.access.jti } });
  assert.equal(byJti.status, 200);
  assert.deepEqual(await introspect(fx, l1.doc, l2.accessJws), { active: false });
  // RFC 7009 §2.2: unknown tokens are answered with 200 as well; no token is a 400.
  assert.equal((await request(fx, 'POST', l1.doc.revocation_endpoint, { form: { token: 'unknown' } })).status, 200);
  assert.equal((await request(fx, 'POST', l1.doc.revocation_endpoint, { form: {} })).status, 400);
});

test('logout with the SSO token (A_18858): SSO reuse refused (2040), tokens of the session inactive, codes of the session not redeemable', async () => {
  const l = await login(fx, egk.signer, APP_CLIENT);
  const viaSsoBefore = await viaSso(fx, l);
  const pendingCode = redirectParams(viaSsoBefore.r).get('code') as string;
  const out = await request(fx, 'POST', l.doc.end_session_endpoint, { form: { ssotoken: l.ssoToken } });
  assert.equal(out.status, 200, out.text);
  assert.deepEqual(out.json(), {});
  const again = await viaSso(fx, l);
  assert.equal(again.r.status, 400);
  assert.equal(again.r.json().gematik_code, '2040');
  assert.equal(again.r.json().error, 'access_denied');
  assert.equal(again.r.json().gematik_error_text, 'SSO_TOKEN nicht valide, bitte um neuerliche Authentisierung');
  assert.deepEqual(await introspect(fx, l.doc, l.accessJws), { active: false });
  const t = await redeem(fx, l.doc, { code: pendingCode, client_id: APP_CLIENT.client_id, redirect_uri: APP_CLIENT.redirect_uri, key_verifier: keyVerifier(l.jwks.enc, viaSsoBefore.p.verifier).jwe });
  assert.equal(t.status, 400);
  assert.equal(t.json().error, 'invalid_grant');
  // A new card authentication works again.
  const fresh = await login(fx, egk.signer, APP_CLIENT);
  assert.equal((await introspect(fx, fresh.doc, fresh.accessJws)).active, true);
  // Logout of an unknown SSO token is an error; an ended session can be ended again.
  assert.equal((await request(fx, 'POST', l.doc.end_session_endpoint, { form: { ssotoken: 'garbage' } })).status, 400);
  assert.equal((await request(fx, 'POST', l.doc.end_session_endpoint, { form: { ssotoken: l.ssoToken } })).status, 200);
  assert.equal((await request(fx, 'POST', l.doc.end_session_endpoint, { form: {} })).status, 400);
});

test('logout with an access token ends its session: tokens issued via SSO in that session are revoked too', async () => {
  const l = await login(fx, egk.signer, APP_CLIENT);
  const s = await viaSso(fx, l);
  const code = redirectParams(s.r).get('code') as string;
  const kv = keyVerifier(l.jwks.enc, s.p.verifier);
  const t = await redeem(fx, l.doc, { code, client_id: APP_CLIENT.client_id, redirect_uri: APP_CLIENT.redirect_uri, key_verifier: kv.jwe });
  assert.equal(t.status, 200);
  const { decryptJweDir, payloadJson } = await import('../../../simulators/lib/jose');
  const ssoAccess = payloadJson<{ njwt: string }>(decryptJweDir(t.json().access_token, kv.tokenKey).plaintext).njwt;
  assert.equal(jwsClaims(ssoAccess).auth_time, l.access.auth_time, 'auth_time of the card authentication (A_20459)');
  assert.equal((await introspect(fx, l.doc, ssoAccess)).active, true);
  const out = await request(fx, 'POST', l.doc.end_session_endpoint, { form: { token: l.accessJws } });
  assert.equal(out.status, 200);
  assert.deepEqual(await introspect(fx, l.doc, ssoAccess), { active: false });
  assert.equal((await viaSso(fx, l)).r.json().gematik_code, '2040');
});

test('SSO lifetime: 12 h after the card authentication the SSO token is refused (simulated clock)', async () => {
  const l = await login(fx, egk.signer, APP_CLIENT);
  fx.clock.advance(11 * 3600_000);
  assert.equal((await viaSso(fx, l)).r.status, 302);
  fx.clock.advance(3600_000 + 1000);
  const late = await viaSso(fx, l);
  assert.equal(late.r.status, 400);
  assert.equal(late.r.json().gematik_code, '2040');
});

test('production profile: the SSO token serves only its client (2041) and the certificate is checked again (revoked → 2040)', async () => {
  const prod = await startIdpFixture({ config: { profile: 'production' }, pkiService: fx.pkiService, tmp: fs.mkdtempSync(path.join(fx.tmp, 'prod-')) });
  try {
    const person = issueTestSigner(fx.pkiService.pki, { profile: 'C.CH.AUT' });
    const l = await login(prod, person.signer, APP_CLIENT);
    await login(prod, person.signer, PS_CLIENT); // consent for the PVS client exists
    assert.equal((await viaSso(prod, l, APP_CLIENT)).r.status, 302);
    const other = await viaSso(prod, l, PS_CLIENT);
    assert.equal(other.r.status, 400);
    assert.equal(other.r.json().gematik_code, '2041');
    assert.equal(other.r.json().gematik_error_text, 'SSO_TOKEN und Challenge passen nicht zusammen, bitte um neuerliche Authentisierung');
    // The reference profile serves other clients with the same kind of token.
    const ref = await login(fx, person.signer, APP_CLIENT);
    await login(fx, person.signer, PS_CLIENT);
    assert.equal((await viaSso(fx, ref, PS_CLIENT)).r.status, 302);
    // Revoked certificate: production refuses the SSO token, the reference IDP does not look again.
    await request(prod, 'POST', `${fx.pkiService.url}/__admin/certificates/${person.issued.serialNumber}/revoke`, { body: '{}', headers: { 'content-type': 'application/json' } });
    const revoked = await viaSso(prod, l, APP_CLIENT);
    assert.equal(revoked.r.status, 400);
    assert.equal(revoked.r.json().gematik_code, '2040');
    assert.equal((await viaSso(fx, ref, APP_CLIENT)).r.status, 302);
  } finally {
    await prod.stop();
  }
});
