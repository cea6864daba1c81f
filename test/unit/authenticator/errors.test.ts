/** IdpError from a 400 JSON body and from a redirect Location; code redirects; log redaction. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdpError, IdpProtocolError, parseCodeRedirect, parseIdpErrorFromJson, parseIdpErrorFromLocation, redactUrl } from '../../../simulators/lib/idp-client';

test('a gematik error body becomes an IdpError with every field', () => {
  const e = parseIdpErrorFromJson(
    400,
    JSON.stringify({
      error: 'invalid_request',
      gematik_code: '2012',
      gematik_timestamp: 1700000000,
      gematik_uuid: '1f0c1e8e-0000-4000-8000-000000000001',
      gematik_error_text: 'client_id ist ungültig',
      error_description: 'unknown client',
    }),
  );
  assert.ok(e instanceof IdpError);
  assert.equal(e.status, 400);
  assert.equal(e.source, 'json');
  assert.equal(e.error, 'invalid_request');
  assert.equal(e.gematikCode, '2012');
  assert.equal(e.gematikTimestamp, 1700000000);
  assert.equal(e.gematikUuid, '1f0c1e8e-0000-4000-8000-000000000001');
  assert.equal(e.gematikErrorText, 'client_id ist ungültig');
  assert.equal(e.errorDescription, 'unknown client');
  assert.match(e.message, /invalid_request.*2012.*400.*client_id ist ungültig/);
});

test('a numeric gematik_code is kept as text; a body that is not an error gives http_<status>', () => {
  assert.equal(parseIdpErrorFromJson(400, '{"error":"invalid_grant","gematik_code":3011}').gematikCode, '3011');
  const html = parseIdpErrorFromJson(502, Buffer.from('<html>Bad Gateway</html>'));
  assert.equal(html.error, 'http_502');
  assert.equal(html.source, 'http');
  assert.equal(html.gematikCode, undefined);
  assert.match(html.message, /Bad Gateway/);
  assert.equal(parseIdpErrorFromJson(500, '').error, 'http_500');
  assert.equal(parseIdpErrorFromJson(400, '{"error":""}').error, 'http_400');
});

test('an error redirect becomes an IdpError with state and location', () => {
  const loc =
    'http://test-ps.gematik.de/erezept?error=access_denied&gematik_code=2042&gematik_timestamp=1700000001&gematik_uuid=u-2&gematik_error_text=Einwilligung+verweigert&error_description=denied&state=abc';
  const e = parseIdpErrorFromLocation(loc);
  assert.ok(e);
  assert.equal(e.status, 302);
  assert.equal(e.source, 'redirect');
  assert.equal(e.error, 'access_denied');
  assert.equal(e.gematikCode, '2042');
  assert.equal(e.gematikTimestamp, 1700000001);
  assert.equal(e.gematikUuid, 'u-2');
  assert.equal(e.gematikErrorText, 'Einwilligung verweigert');
  assert.equal(e.errorDescription, 'denied');
  assert.equal(e.state, 'abc');
  assert.equal(e.location, loc);
  assert.equal(parseIdpErrorFromLocation('http://test-ps.gematik.de/erezept?code=x&state=y'), undefined);
  assert.equal(parseIdpErrorFromLocation('not a url'), undefined);
});

test('code redirects: code, state, SSO token; error redirects throw; neither → protocol error', () => {
  const r = parseCodeRedirect('http://test-ps.gematik.de/erezept?code=C1&ssotoken=S1&state=ST');
  assert.deepEqual(r, { kind: 'code', code: 'C1', state: 'ST', ssoToken: 'S1', location: 'http://test-ps.gematik.de/erezept?code=C1&ssotoken=S1&state=ST' });
  assert.equal(parseCodeRedirect('https://redirect.gematik.de/erezept?code=C2&state=X').ssoToken, undefined);
  assert.throws(() => parseCodeRedirect('https://r.example/cb?error=invalid_request&gematik_code=2030&state=X'), (e: unknown) => e instanceof IdpError && e.gematikCode === '2030');
  assert.throws(() => parseCodeRedirect('https://r.example/cb?state=X'), (e: unknown) => e instanceof IdpProtocolError && e.code === 'UNEXPECTED_RESPONSE');
  assert.throws(() => parseCodeRedirect(''), (e: unknown) => e instanceof IdpProtocolError);
});

test('log redaction hides codes, SSO tokens and secrets, keeps the rest', () => {
  const r = redactUrl('http://test-ps.gematik.de/erezept?code=SECRET1&ssotoken=SECRET2&state=visible&client_secret=SECRET3');
  assert.equal(r.includes('SECRET'), false);
  assert.match(r, /code=%5Bredacted%5D/);
  assert.match(r, /state=visible/);
  assert.equal(redactUrl('::'), '[unparseable URL]');
});
