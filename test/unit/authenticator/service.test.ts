/**
 * The module's local interface (A_18940) and its guard rails, against the fake IDP (no flow to the
 * end here; the full flow runs in e2e.test.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { Authenticator } from '../../../simulators/authenticator/authenticator';
import { startAuthenticatorService, type RunningAuthenticatorService } from '../../../simulators/authenticator/service';
import { IdpProtocolError } from '../../../simulators/lib/idp-client';
import { smcbSigner, startFakeIdp, testPki, type FakeIdp } from './helpers';

let idp: FakeIdp;
let authenticator: Authenticator;
let service: RunningAuthenticatorService;

before(async () => {
  idp = await startFakeIdp();
  const pki = await testPki();
  const { signer } = await smcbSigner();
  authenticator = new Authenticator({ issuerUrl: idp.url, trust: { rootPem: pki.rootCertificatePem, caPems: [pki.cas['komp-ca'].certificatePem] }, signer });
  service = await startAuthenticatorService({ authenticator });
});
after(async () => {
  await service?.stop();
  await idp?.stop();
});

function get(url: string, host?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

test('status answers on loopback; a foreign Host header is refused (DNS rebinding)', async () => {
  const ok = await get(`${service.url}/status`);
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body), { status: 'ready', busy: false, issuer: idp.url });
  const rebound = await get(`${service.url}/status`, `evil.example:${service.port}`);
  assert.equal(rebound.status, 403);
  const rebound2 = await get(service.authenticateUrl(`${idp.url}/sign_response?client_id=x`), 'evil.example');
  assert.equal(rebound2.status, 403);
});

test('authenticate without or with a broken challenge_path: 400 JSON', async () => {
  const missing = await get(`${service.url}/authenticate`);
  assert.equal(missing.status, 400);
  assert.equal(JSON.parse(missing.body).error, 'missing_challenge_path');
  const broken = await get(`${service.url}/authenticate?challenge_path=ftp%3A%2F%2Fx`);
  assert.equal(broken.status, 400);
  assert.equal(JSON.parse(broken.body).error, 'invalid_challenge_path');
});

test('an authorization URL of another server is not followed: 502 ENDPOINT_MISMATCH, nothing sent there', async () => {
  const before = authenticator.exchanges.length;
  const r = await get(service.authenticateUrl('https://evil.example/sign_response?client_id=gematikTestPs&state=s'));
  assert.equal(r.status, 502);
  const body = JSON.parse(r.body);
  assert.equal(body.code, 'ENDPOINT_MISMATCH');
  assert.equal(authenticator.exchanges.slice(before).some((x) => x.url.includes('evil.example')), false);
  await assert.rejects(authenticator.handleInvocation('authenticator://?challenge_path=https%3A%2F%2Fevil.example%2Fx'), (e: unknown) => e instanceof IdpProtocolError && e.code === 'ENDPOINT_MISMATCH');
  assert.equal(authenticator.stats.cardSignatures, 0);
});
