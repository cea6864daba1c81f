/** authenticator://?challenge_path=… parsing and building (gematik Authenticator format). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAuthenticatorUri, InvocationError, parseAuthenticatorUri } from '../../../simulators/authenticator/invocation';

const AUTH =
  'https://idp.example:8441/sign_response?client_id=gematikTestPs&response_type=code&redirect_uri=http%3A%2F%2Ftest-ps.gematik.de%2Ferezept&state=S&code_challenge=C&code_challenge_method=S256&scope=openid+e-rezept&nonce=N';

test('encoded challenge_path (encodeURIComponent) round-trips; inner encoding stays intact', () => {
  const uri = buildAuthenticatorUri(AUTH);
  assert.match(uri, /^authenticator:\/\/\?challenge_path=https%3A%2F%2Fidp\.example/);
  const inv = parseAuthenticatorUri(uri);
  assert.equal(inv.challengePath, new URL(AUTH).toString());
  const q = new URL(inv.challengePath).searchParams;
  assert.equal(q.get('redirect_uri'), 'http://test-ps.gematik.de/erezept');
  assert.equal(q.get('scope'), 'openid e-rezept');
  assert.equal(inv.callback, undefined);
});

test('hints callback and cardType are taken off the challenge path', () => {
  const inv = parseAuthenticatorUri(buildAuthenticatorUri(AUTH, { callback: 'DIRECT', cardType: 'SMC-B' }));
  assert.equal(inv.callback, 'DIRECT');
  assert.equal(inv.cardType, 'SMC-B');
  const q = new URL(inv.challengePath).searchParams;
  assert.equal(q.has('callback'), false);
  assert.equal(q.has('cardType'), false);
  assert.equal(q.get('client_id'), 'gematikTestPs');
});

test('form-encoded (Go url.Values.Encode) and unencoded challenge paths are read like the reference app', () => {
  const form = `authenticator://?${new URLSearchParams({ challenge_path: `${AUTH}&cardType=SMC-B&callback=DIRECT` }).toString()}`;
  const a = parseAuthenticatorUri(form);
  assert.equal(a.cardType, 'SMC-B');
  assert.equal(new URL(a.challengePath).searchParams.get('scope'), 'openid e-rezept');
  const raw = parseAuthenticatorUri(`authenticator://?challenge_path=${AUTH}`);
  assert.equal(new URL(raw.challengePath).searchParams.get('nonce'), 'N');
  assert.equal(new URL(raw.challengePath).searchParams.get('redirect_uri'), 'http://test-ps.gematik.de/erezept');
  const twice = parseAuthenticatorUri(`authenticator://?challenge_path=${encodeURIComponent(encodeURIComponent(AUTH))}`);
  assert.equal(new URL(twice.challengePath).searchParams.get('state'), 'S');
});

test('wrong scheme, missing or broken challenge_path, authz_path are clear errors', () => {
  const bad: Array<[string, RegExp]> = [
    ['https://idp.example/?challenge_path=x', /not an authenticator/],
    ['authenticator://', /no challenge_path/],
    ['authenticator://?challenge_path=', /empty/],
    ['authenticator://?authz_path=https%3A%2F%2Fkc', /authz_path/],
    ['authenticator://?challenge_path=%E0%A4%A', /percent-encoding/],
    ['authenticator://?challenge_path=ftp%3A%2F%2Fx', /not a URL|http\(s\)/],
    ['', /empty/],
  ];
  for (const [uri, msg] of bad) assert.throws(() => parseAuthenticatorUri(uri), (e: unknown) => e instanceof InvocationError && msg.test(e.message), uri);
  assert.throws(() => parseAuthenticatorUri(`authenticator://?challenge_path=${'a'.repeat(20000)}`), InvocationError);
});
