/** PKCE (RFC 7636), state/nonce and the authorization URL. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizationUrl, codeChallengeS256, createCodeVerifier, IdpProtocolError, randomToken } from '../../../simulators/lib/idp-client';

test('RFC 7636 Appendix B: S256 of the example verifier', () => {
  assert.equal(codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
});

test('fresh verifiers: 43 characters of the unreserved set, all different', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const v = createCodeVerifier();
    assert.match(v, /^[A-Za-z0-9\-._~]{43}$/);
    assert.match(codeChallengeS256(v), /^[A-Za-z0-9_-]{43}$/);
    seen.add(v);
  }
  assert.equal(seen.size, 50);
  assert.equal(createCodeVerifier(96).length, 128);
});

test('verifiers outside RFC 7636 §4.1 are refused', () => {
  for (const bad of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)} `, '']) {
    assert.throws(() => codeChallengeS256(bad), (e: unknown) => e instanceof IdpProtocolError && e.code === 'INVALID_ARGUMENT', bad);
  }
  assert.equal(codeChallengeS256('~'.repeat(128)).length, 43);
  assert.throws(() => createCodeVerifier(16), IdpProtocolError);
});

test('state and nonce: 32 url-safe characters, random', () => {
  const a = randomToken();
  assert.match(a, /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(a, randomToken());
});

test('authorization URL keeps the endpoint and carries every OIDC/PKCE parameter once', () => {
  const url = new URL(
    authorizationUrl('https://idp.example/sign_response?x=1', {
      clientId: 'gematikTestPs',
      redirectUri: 'http://test-ps.gematik.de/erezept',
      scope: 'openid e-rezept',
      state: 'S',
      nonce: 'N',
      codeChallenge: 'C',
      prompt: 'login',
    }),
  );
  assert.equal(url.origin + url.pathname, 'https://idp.example/sign_response');
  const q = url.searchParams;
  assert.deepEqual(
    [...q.keys()].sort(),
    ['client_id', 'code_challenge', 'code_challenge_method', 'nonce', 'prompt', 'redirect_uri', 'response_type', 'scope', 'state', 'x'],
  );
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.equal(q.get('scope'), 'openid e-rezept');
  assert.equal(q.get('redirect_uri'), 'http://test-ps.gematik.de/erezept');
  assert.equal(q.get('prompt'), 'login');
});
