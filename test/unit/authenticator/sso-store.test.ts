/** The device-wide SSO store: per IDP, expiry from the JWE header, shared, persisted. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encryptJweDir } from '../../../simulators/lib/jose';
import { DeviceSsoStore, SsoStoreError, ssoTokenExpiry } from '../../../simulators/authenticator/sso-store';
import { tempDir } from './helpers';

const key = Buffer.alloc(32, 7);
const ssoToken = (expS?: number) => encryptJweDir('{"njwt":"x"}', key, { header: expS === undefined ? { cty: 'NJWT' } : { cty: 'NJWT', exp: expS } });

test('one session per IDP (trailing slash ignored), expiry taken from the token header', () => {
  let now = 1_700_000_000_000;
  const store = new DeviceSsoStore({ clock: () => now });
  const tok = ssoToken(now / 1000 + 3600);
  store.put('https://idp.example/', tok, 'Praxis A');
  assert.equal(store.get('https://idp.example')?.ssoToken, tok);
  assert.equal(store.get('https://idp.example')?.expiresAtMs, now + 3600_000);
  assert.equal(store.get('https://other.example'), undefined);
  now += 3600_000;
  assert.equal(store.get('https://idp.example'), undefined, 'expired sessions are gone');
  assert.equal(store.size, 0);
  assert.equal(ssoTokenExpiry('not a jwe'), undefined);
  store.put('https://idp.example', ssoToken());
  now += 100 * 24 * 3600_000;
  assert.ok(store.has('https://idp.example'), 'without exp the session stays until the IDP refuses it');
  assert.equal(store.delete('https://idp.example'), true);
  assert.equal(store.delete('https://idp.example'), false);
  assert.throws(() => store.put('https://idp.example', ''), SsoStoreError);
});

test('persisted as a 0600 JSON file and read back by the next instance; damaged files are reported', () => {
  const file = path.join(tempDir('sso-'), 'device', 'sso.json');
  const a = new DeviceSsoStore({ file });
  const tok = ssoToken(Math.floor(Date.now() / 1000) + 600);
  a.put('https://idp.example', tok);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const b = new DeviceSsoStore({ file });
  assert.equal(b.get('https://idp.example')?.ssoToken, tok);
  b.clear();
  assert.equal(new DeviceSsoStore({ file }).size, 0);
  fs.writeFileSync(file, '{not json');
  assert.throws(() => new DeviceSsoStore({ file }), (e: unknown) => e instanceof SsoStoreError && /not readable JSON/.test(e.message));
  fs.writeFileSync(file, JSON.stringify({ version: 2, sessions: [] }));
  assert.throws(() => new DeviceSsoStore({ file }), /version 1/);
  fs.writeFileSync(file, JSON.stringify({ version: 1, sessions: [{ issuer: 'x' }] }));
  assert.throws(() => new DeviceSsoStore({ file }), /malformed/);
});
