/**
 * The IDP's configuration and harness controls: client and scope registration (A_18810), a scope
 * with fewer claims (A_18856), consent reset, the clock, the environment's idp section, persisted
 * keys, the shared TLS material module, and the PKI's OCSP request log.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, DEFAULT_IDP_CONFIG, loadEnvironment, resolveEnvironment } from '../../../simulators/lib/config';
import { IDENTITY_CLAIMS } from '../../../simulators/lib/idp-protocol';
import { loadOrIssueTlsMaterial } from '../../../simulators/lib/tls-material';
import { loadOrIssueTlsMaterial as konnektorTls } from '../../../simulators/konnektor/server';
import { parseCertificate } from '../../../simulators/lib/x509';
import { startIdp } from '../../../simulators/idp/service';
import { issueTestSigner, type TestSigner } from '../../../simulators/idp/testing/software-signer';
import { admin, authorize, discover, login, request, startIdpFixture, type IdpFixture } from './helpers';

let fx: IdpFixture;
let smcb: TestSigner;

before(async () => {
  fx = await startIdpFixture();
  smcb = issueTestSigner(fx.pkiService.pki, { profile: 'C.HCI.AUT', telematikId: '1-SMC-B-admin-01', subject: { surname: 'Ebert', givenName: 'Hanna' } });
});
after(async () => fx?.stop());

test('client registration (A_18810): a registered client can log in, is listed with its secret masked, and is refused once removed', async () => {
  const client = { client_id: 'new-pvs', redirect_uris: ['https://new-pvs.example/cb'], profile: 'native', sso: false };
  const created = await admin(fx, 'POST', '/clients', client);
  assert.equal(created.status, 201, created.text);
  const r = await login(fx, smcb.signer, { client_id: 'new-pvs', redirect_uri: 'https://new-pvs.example/cb' });
  assert.equal(r.access.client_id, 'new-pvs');
  const web = await admin(fx, 'POST', '/clients', { client_id: 'new-web', redirect_uris: ['https://w.example/cb'], profile: 'web', client_secret: 'a-long-enough-secret' });
  assert.equal(web.status, 201, web.text);
  const list = (await admin(fx, 'GET', '/clients')).json() as Array<Record<string, unknown>>;
  assert.equal(list.find((c) => c.client_id === 'new-web')?.client_secret, '***');
  assert.ok(!JSON.stringify(list).includes('a-long-enough-secret'));
  for (const [body, why] of [
    [{ ...client, profile: 'hybrid' }, /profile must be "native" or "web"/],
    [{ client_id: 'x', redirect_uris: ['https://w.example/cb'], profile: 'web' }, /needs a client_secret/],
    [{ client_id: 'x', redirect_uris: ['not a uri'] }, /not an absolute URI/],
    [{ client_id: 'bad id!', redirect_uris: ['https://w.example/cb'] }, /client_id must be/],
    [{ client_id: 'x', redirect_uris: ['https://w.example/cb'], unknown: 1 }, /unknown field/],
  ] as const) {
    const bad = await admin(fx, 'POST', '/clients', body);
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.json().message, why);
  }
  assert.equal((await admin(fx, 'DELETE', '/clients/new-pvs')).status, 200);
  assert.equal((await admin(fx, 'DELETE', '/clients/new-pvs')).status, 404);
  const doc = await discover(fx);
  const refused = await authorize(fx, doc, { client_id: 'new-pvs', redirect_uri: 'https://new-pvs.example/cb' });
  assert.equal(refused.status, 400);
  assert.equal(refused.json().gematik_code, '2012');
});

test('a scope with fewer claims (A_18856): consent asks for those, the tokens carry only those identity claims', async () => {
  const s = await admin(fx, 'POST', '/scopes', { scope: 'vzd-lite', audience: 'https://vzd.ti-harness.sim/', claims: ['idNummer', 'professionOID'], description: 'Zugriff auf den VZD.' });
  assert.equal(s.status, 201, s.text);
  const doc = await discover(fx);
  assert.deepEqual(doc.scopes_supported, ['openid', 'e-rezept', 'vzd-lite']);
  const a = await authorize(fx, doc, { scope: 'openid vzd-lite' });
  assert.deepEqual(Object.keys(a.json().user_consent.requested_claims).sort(), ['idNummer', 'professionOID']);
  const r = await login(fx, smcb.signer, undefined, { scope: 'openid vzd-lite' });
  assert.equal(r.consentAsked, true);
  assert.equal(r.access.aud, 'https://vzd.ti-harness.sim/');
  for (const t of [r.access, r.id]) {
    const released = IDENTITY_CLAIMS.filter((c) => c in t).sort();
    assert.deepEqual(released, ['idNummer', 'professionOID'], JSON.stringify(t));
    assert.equal(t.idNummer, '1-SMC-B-admin-01');
  }
  // The full scope still releases everything it lists, including the names in the certificate.
  const full = await login(fx, smcb.signer);
  assert.equal(full.access.family_name, 'Ebert');
  assert.equal(full.access.given_name, 'Hanna');
  // openid cannot be registered; scopes validated.
  assert.equal((await admin(fx, 'POST', '/scopes', { scope: 'openid', audience: 'https://x.example/' })).status, 400);
  assert.equal((await admin(fx, 'POST', '/scopes', { scope: 'x', audience: 'https://x.example/', claims: ['birthdate'] })).status, 400);
  assert.equal((await admin(fx, 'DELETE', '/scopes/vzd-lite')).status, 200);
  assert.equal((await authorize(fx, doc, { scope: 'openid vzd-lite' })).status, 302, 'unknown scope again → 1030 redirect');
});

test('consent reset: DELETE /__admin/consents (all or one idNummer) makes the next login ask again', async () => {
  await login(fx, smcb.signer);
  assert.equal((await login(fx, smcb.signer)).consentAsked, false);
  assert.ok((await admin(fx, 'GET', '/consents')).json().count >= 1);
  const one = await admin(fx, 'DELETE', '/consents?idNummer=1-SMC-B-admin-01');
  assert.ok(one.json().removed >= 1, one.text);
  assert.equal((await login(fx, smcb.signer)).consentAsked, true);
  await admin(fx, 'DELETE', '/consents');
  assert.equal((await admin(fx, 'GET', '/consents')).json().count, 0);
});

test('clock and health admin API: the simulated clock moves every lifetime; health shows no personal data', async () => {
  const before = (await admin(fx, 'GET', '/clock')).json();
  const moved = await admin(fx, 'POST', '/clock', { advanceMs: 7200_000 });
  assert.equal(moved.status, 200);
  assert.ok(moved.json().offsetMs >= before.offsetMs + 7200_000);
  const doc = await discover(fx);
  assert.ok(doc.iat >= Math.floor(Date.now() / 1000) + 7199);
  assert.equal((await admin(fx, 'POST', '/clock', { advanceMs: -5 })).status, 400);
  const health = (await admin(fx, 'GET', '/health')).json();
  assert.equal(health.status, 'ok');
  assert.equal(health.profile, 'reference');
  assert.ok(!JSON.stringify(health).includes('1-SMC-B-admin-01'));
  assert.equal((await admin(fx, 'POST', '/faults', { ocspUnreachable: 'yes' })).status, 400);
});

test('keys and certificates persist in the data directory: a restarted IDP publishes the same puk_idp_sig and puk_idp_enc', async () => {
  const dataDir = fs.mkdtempSync(path.join(fx.tmp, 'persist-'));
  const start = () => startIdp({ host: '127.0.0.1', port: 0, dataDir, env: fx.env, log: () => undefined, pki: fx.pkiService.pki });
  const a = await start();
  const jwkA = a.jwk;
  await a.stop();
  const b = await start();
  try {
    assert.deepEqual(b.jwk, jwkA);
    assert.ok(fs.existsSync(path.join(dataDir, 'keys', 'keys.json')));
    assert.equal((fs.statSync(path.join(dataDir, 'keys', 'keys.json')).mode & 0o077), 0, 'private keys not readable by others');
  } finally {
    await b.stop();
  }
});

test('environment idp section: defaults, validation, https URL of the simulated IDP; local.yaml registers the four clients', () => {
  const env = resolveEnvironment({}, 'x.yaml');
  assert.deepEqual(env.idp, DEFAULT_IDP_CONFIG);
  assert.match(env.services.idp.url, /^https:\/\/127\.0\.0\.1:8441$/);
  const local = loadEnvironment('local', {});
  assert.deepEqual(local.idp.clients.map((c) => [c.client_id, c.profile, c.sso]), [
    ['gematikTestPs', 'native', false],
    ['eRezeptApp', 'native', true],
    ['ti-harness-kassen-app', 'native', false],
    ['ti-harness-web-pvs', 'web', false],
  ]);
  assert.deepEqual(local.idp.scopes[0].claims, [...IDENTITY_CLAIMS]);
  const bad = (idp: unknown, re: RegExp) => assert.throws(() => resolveEnvironment({ idp } as never, 'x.yaml'), (e: unknown) => e instanceof ConfigError && re.test(e.message));
  bad({ profile: 'staging' }, /idp\.profile must be "reference" or "production"/);
  bad({ consent: 'sometimes' }, /idp\.consent must be/);
  bad({ clients: [{ client_id: 'a', redirect_uris: ['https://a/'] }, { client_id: 'a', redirect_uris: ['https://b/'] }] }, /names a more than once/);
  bad({ clients: [{ client_id: 'a', redirect_uris: ['https://a/#frag'] }] }, /fragment/);
  bad({ scopes: [{ scope: 'e', audience: 'x' }] }, /audience is not an absolute URI/);
  bad({ ocspTimeoutMs: 5 }, /ocspTimeoutMs/);
  const ext = resolveEnvironment({ services: { idp: { simulated: false, url: 'https://idp.vendor.test' } } }, 'x.yaml');
  assert.equal(ext.services.idp.url, 'https://idp.vendor.test');
});

test('TLS material (simulators/lib/tls-material.ts): profile and commonName per simulator, cached, the Konnektor keeps C.AK.AUT', () => {
  const dir = fs.mkdtempSync(path.join(fx.tmp, 'tls-'));
  const pki = fx.pkiService.pki;
  const idp = loadOrIssueTlsMaterial(pki, dir, ['127.0.0.1'], { profile: 'C.FD.TLS-S', commonName: 'idp.ti-harness.sim' });
  const kon = konnektorTls(pki, dir, ['127.0.0.1'], { clientAuth: false });
  const idpCert = parseCertificate(idp.eccCertificatePem);
  const konCert = parseCertificate(kon.eccCertificatePem);
  assert.ok(idpCert.policies.includes('1.2.276.0.76.4.169'), 'C.FD.TLS-S');
  assert.ok(konCert.policies.includes('1.2.276.0.76.4.79'), 'C.AK.AUT');
  assert.equal(idpCert.subjectAttributes.find((a) => a.type === 'CN')?.value, 'idp.ti-harness.sim');
  assert.equal(konCert.subjectAttributes.find((a) => a.type === 'CN')?.value, 'Konnektor-Simulator');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['c.ak.aut-ecc.json', 'c.ak.aut-rsa.json', 'c.fd.tls-s-ecc.json', 'c.fd.tls-s-rsa.json']);
  const again = loadOrIssueTlsMaterial(pki, dir, ['127.0.0.1'], { profile: 'C.FD.TLS-S', commonName: 'idp.ti-harness.sim' });
  assert.equal(again.eccCertificatePem, idp.eccCertificatePem, 'cached');
  const renamed = loadOrIssueTlsMaterial(pki, dir, ['127.0.0.1'], { profile: 'C.FD.TLS-S', commonName: 'other.ti-harness.sim' });
  assert.notEqual(renamed.eccCertificatePem, idp.eccCertificatePem, 'another commonName → new certificate');
  assert.ok(new crypto.X509Certificate(idp.rsaCertificatePem).publicKey.asymmetricKeyType === 'rsa');
});

test('PKI OCSP request log: lists requests by serial and time; DELETE empties it', async () => {
  const person = issueTestSigner(fx.pkiService.pki, { profile: 'C.CH.AUT' });
  const since = new Date(Date.now() - 1000).toISOString();
  await login(fx, person.signer, { client_id: 'eRezeptApp', redirect_uri: 'https://redirect.gematik.de/erezept' });
  const url = `${fx.pkiService.url}/__admin/ocsp/requests`;
  const mine = (await request(fx, 'GET', `${url}?serial=${person.issued.serialNumber}&since=${since}`)).json();
  assert.equal(mine.requests.length, 1);
  assert.deepEqual(mine.requests[0].serials, [person.issued.serialNumber]);
  assert.equal(mine.requests[0].method, 'POST');
  assert.deepEqual((await request(fx, 'GET', `${url}?serial=${person.issued.serialNumber}&since=2999-01-01T00:00:00Z`)).json().requests, []);
  assert.equal((await request(fx, 'GET', `${url}?since=yesterday`)).status, 400);
  assert.ok((await request(fx, 'DELETE', url)).json().removed >= 1);
  assert.deepEqual((await request(fx, 'GET', url)).json().requests, []);
});
