import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { buildOcspRequest, OcspTransportError, parseOcspResponse, queryOcsp, verifyOcspResponse } from '../../../simulators/lib/ocsp';
import { parseCertificate, pemToDer } from '../../../simulators/lib/x509';
import { startPkiService, type RunningPkiService } from '../../../simulators/pki/service';
import { tslCaCertificates } from '../../../simulators/pki/tsl';
import { verifyEnveloped } from '../../../simulators/pki/xmldsig';
import type { AdminIssueResponse } from '../../../simulators/pki/admin';
import { opensslAsync, tempDir, writeFile } from './helpers';

const dataDir = tempDir('pki-service-');
const noLog = () => undefined;
let svcPromise: Promise<RunningPkiService> | undefined;
const getService = () => (svcPromise ??= startPkiService({ host: '127.0.0.1', port: 0, dataDir, env: {} as never, log: noLog }));
after(async () => {
  if (svcPromise) await (await svcPromise).stop();
});

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; type: string; text: string; json: () => any }> {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url, { method, body: payload, headers: body !== undefined && !Buffer.isBuffer(body) ? { 'content-type': 'application/json', ...headers } : headers });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) };
}

async function issue(body: Record<string, unknown>): Promise<AdminIssueResponse> {
  const svc = await getService();
  const r = await call('POST', `${svc.url}/__admin/certificates`, body);
  assert.equal(r.status, 201, r.text);
  return r.json() as AdminIssueResponse;
}

test('the service reports its endpoints and health', async () => {
  const svc = await getService();
  assert.match(svc.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(svc.endpoints, {
    ocsp: `${svc.url}/ocsp`,
    tsl: `${svc.url}/tsl.xml`,
    root: `${svc.url}/certs/root.pem`,
    admin: `${svc.url}/__admin`,
  });
  const h = await call('GET', `${svc.url}/__admin/health`);
  assert.equal(h.status, 200);
  assert.equal(h.json().status, 'ok');
  const root = await call('GET', svc.endpoints?.root as string);
  assert.equal(root.status, 200);
  assert.deepEqual(pemToDer(root.text), svc.pki.rootCertificate);
  const komp = await call('GET', `${svc.url}/certs/komp-ca.pem`);
  assert.deepEqual(pemToDer(komp.text), svc.pki.cas['komp-ca'].certificate);
});

test('admin API issues certificates whose AIA points at this responder', async () => {
  const svc = await getService();
  const r = await issue({ profile: 'C.HP.QES', telematikId: '1-HBA-Ebert-01', subject: { givenName: 'Hanna', surname: 'Ebert' } });
  assert.equal(r.ocspUrl, `${svc.url}/ocsp`);
  assert.match(r.privateKeyPem ?? '', /BEGIN PRIVATE KEY/);
  assert.equal(r.chainPem.length, 2);
  assert.equal(r.status, 'good');
  const p = parseCertificate(r.certificatePem);
  assert.deepEqual(p.ocspUrls, [`${svc.url}/ocsp`]);
  assert.equal(p.serialNumber, r.serialNumber);
  assert.equal(p.admission?.professions[0].registrationNumber, '1-HBA-Ebert-01');
  // the key matches the certificate
  const key = crypto.createPrivateKey(r.privateKeyPem as string);
  assert.ok(crypto.verify('sha256', Buffer.from('m'), p.publicKey, crypto.sign('sha256', Buffer.from('m'), key)));
});

test('admin API validates input: unknown profile, bad fields, bad JSON, unknown serial', async () => {
  const svc = await getService();
  const unknown = await call('POST', `${svc.url}/__admin/certificates`, { profile: 'C.BOGUS' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json().error, 'unknown_profile');
  assert.match(unknown.json().message, /unknown profile "C.BOGUS"/);
  const missing = await call('POST', `${svc.url}/__admin/certificates`, {});
  assert.equal(missing.status, 400);
  assert.match(missing.json().message, /profile is required/);
  const badField = await call('POST', `${svc.url}/__admin/certificates`, { profile: 'C.HCI.AUT', subject: { nickname: 'x' } });
  assert.equal(badField.status, 400);
  assert.match(badField.json().message, /unknown subject field/);
  const badDates = await call('POST', `${svc.url}/__admin/certificates`, { profile: 'C.HCI.AUT', notBefore: '2030-01-01', notAfter: '2020-01-01' });
  assert.equal(badDates.status, 400);
  const notJson = await call('POST', `${svc.url}/__admin/certificates`, '{not json');
  assert.equal(notJson.status, 400);
  assert.equal(notJson.json().error, 'bad_request');
  const revokeUnknown = await call('POST', `${svc.url}/__admin/certificates/0abc/revoke`, {});
  assert.equal(revokeUnknown.status, 404);
  assert.equal(revokeUnknown.json().error, 'unknown_certificate');
  const badSerial = await call('GET', `${svc.url}/__admin/certificates/xyz`);
  assert.equal(badSerial.status, 400);
});

test('openssl ocsp gets good, revoked and unknown from the running responder, and the response verifies', async () => {
  const svc = await getService();
  const tmp = tempDir();
  const good = await issue({ profile: 'C.HCI.AUT' });
  const revoked = await issue({ profile: 'C.HCI.AUT' });
  const rv = await call('POST', `${svc.url}/__admin/certificates/${revoked.serialNumber}/revoke`, { reason: 'keyCompromise' });
  assert.equal(rv.status, 200, rv.text);
  assert.equal(rv.json().status, 'revoked');
  const issuer = writeFile(tmp, 'ca.pem', good.issuerPem);
  const root = writeFile(tmp, 'root.pem', svc.pki.rootCertificatePem);
  const run = (cert: string) => opensslAsync(['ocsp', '-issuer', issuer, '-cert', cert, '-url', `${svc.url}/ocsp`, '-CAfile', root, '-resp_text']);

  const g = await run(writeFile(tmp, 'good.pem', good.certificatePem));
  assert.match(g.all, /Response verify OK/);
  assert.match(g.stdout, /good\.pem: good/);
  assert.match(g.stdout, /1\.3\.36\.8\.3\.13/); // CertHash in the single extensions
  assert.match(g.stdout, /OCSP Nonce/);

  const r = await run(writeFile(tmp, 'revoked.pem', revoked.certificatePem));
  assert.match(r.all, /Response verify OK/);
  assert.match(r.stdout, /revoked\.pem: revoked/);
  assert.match(r.stdout, /Reason: keyCompromise/);

  // unknown: a certificate signed with the CA key that the PKI never registered
  const ca = svc.pki.cas['smcb-ca'];
  const { buildCertificate, generateBrainpoolKeyPair, toPem } = await import('../../../simulators/lib/x509');
  const kp = generateBrainpoolKeyPair();
  const rogue = buildCertificate({
    serialNumber: crypto.randomBytes(8),
    issuer: ca.parsed.subjectDer,
    subject: [{ type: 'CN', value: 'never issued' }],
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 86400_000),
    publicKey: kp.publicKey,
    signingKey: ca.privateKey,
    extensions: [],
  });
  const u = await run(writeFile(tmp, 'unknown.pem', toPem(rogue)));
  assert.match(u.all, /Response verify OK/);
  assert.match(u.stdout, /unknown\.pem: unknown/);
});

test('queryOcsp (POST and GET) reports status, nonce, CertHash and verifies', async () => {
  const svc = await getService();
  const a = await issue({ profile: 'C.CH.AUT', status: 'revoked', revocationReason: 'affiliationChanged', revocationTime: '2026-01-15T10:00:00Z' });
  const cert = pemToDer(a.certificatePem);
  const issuer = pemToDer(a.issuerPem);
  const res = await queryOcsp(`${svc.url}/ocsp`, cert, issuer, { nonce: true });
  assert.equal(res.responseStatus, 'successful');
  assert.equal(res.responses[0].certStatus, 'revoked');
  assert.equal(res.responses[0].revocationReason, 3);
  assert.equal(res.responses[0].revocationTime?.toISOString(), '2026-01-15T10:00:00.000Z');
  assert.deepEqual(res.nonce, res.requestNonce);
  assert.deepEqual(res.responses[0].certHash, crypto.createHash('sha256').update(cert).digest());
  assert.equal(verifyOcspResponse(res, issuer).valid, true);
  const viaGet = await queryOcsp(`${svc.url}/ocsp`, a.certificatePem, a.issuerPem, { method: 'GET' });
  assert.equal(viaGet.responses[0].certStatus, 'revoked');
  // GET with base64url instead of URL-encoded base64
  const req = buildOcspRequest(cert, issuer);
  const r = await fetch(`${svc.url}/ocsp/${req.toString('base64url')}`);
  assert.equal(r.status, 200);
  assert.equal(parseOcspResponse(Buffer.from(await r.arrayBuffer())).responses[0].certStatus, 'revoked');
});

test('bad OCSP input: malformed → malformedRequest, oversized → 413, wrong path → 404', async () => {
  const svc = await getService();
  const junk = await fetch(`${svc.url}/ocsp`, { method: 'POST', body: Buffer.from('definitely not DER'), headers: { 'content-type': 'application/ocsp-request' } });
  assert.equal(junk.status, 200);
  assert.equal(junk.headers.get('content-type'), 'application/ocsp-response');
  assert.equal(parseOcspResponse(Buffer.from(await junk.arrayBuffer())).responseStatus, 'malformedRequest');
  const getJunk = await fetch(`${svc.url}/ocsp/%%%`);
  assert.equal(getJunk.status, 400);
  const getNotB64 = await fetch(`${svc.url}/ocsp/${encodeURIComponent('not base64!')}`);
  assert.equal(parseOcspResponse(Buffer.from(await getNotB64.arrayBuffer())).responseStatus, 'malformedRequest');
  const big = await fetch(`${svc.url}/ocsp`, { method: 'POST', body: Buffer.alloc(100_000), headers: { 'content-type': 'application/ocsp-request' } });
  assert.equal(big.status, 413);
  assert.match(await big.text(), /too large/);
  const nf = await call('GET', `${svc.url}/nope`);
  assert.equal(nf.status, 404);
  assert.match(nf.type, /text\/plain/);
  assert.match(nf.text, /not found: GET \/nope/);
  const adminNf = await call('GET', `${svc.url}/__admin/nope`);
  assert.equal(adminNf.status, 404);
  assert.equal(adminNf.json().error, 'not_found');
  const wrongMethod = await call('DELETE', `${svc.url}/ocsp`);
  assert.equal(wrongMethod.status, 405);
  const certNf = await call('GET', `${svc.url}/certs/nope.pem`);
  assert.equal(certNf.status, 404);
});

test('the TSL is signed, lists our CAs with service types and OIDs, and tampering breaks the signature', async () => {
  const svc = await getService();
  const r = await call('GET', `${svc.url}/tsl.xml`);
  assert.equal(r.status, 200);
  assert.match(r.type, /application\/xml/);
  const xml = r.text;
  assert.match(xml, /<TrustServiceStatusList xmlns="http:\/\/uri\.etsi\.org\/02231\/v2#"/);
  assert.match(xml, /<TSLVersionIdentifier>3<\/TSLVersionIdentifier>/);
  assert.match(xml, /http:\/\/uri\.etsi\.org\/TrstSvc\/Svctype\/CA\/PKC/);
  assert.match(xml, /<ExtensionOID>1\.2\.276\.0\.76\.4\.77<\/ExtensionOID><ExtensionValue>oid_smc_b_aut<\/ExtensionValue>/);
  assert.ok(xml.includes(`<ServiceSupplyPoint>${svc.url}/ocsp</ServiceSupplyPoint>`));
  const cas = tslCaCertificates(xml);
  assert.equal(cas.length, 7);
  assert.ok(cas.some((c) => c.equals(svc.pki.cas['egk-ca'].certificate)));
  const v = verifyEnveloped(xml, svc.pki.tslSigner.certificate);
  assert.equal(v.valid, true, v.reason);
  // KeyInfo carries the TSL signer
  assert.deepEqual(verifyEnveloped(xml).signerCertificate, svc.pki.tslSigner.certificate);
  const tampered = xml.replace('oid_smc_b_aut', 'oid_smc_b_xxx');
  assert.notEqual(tampered, xml);
  const t = verifyEnveloped(tampered, svc.pki.tslSigner.certificate);
  assert.equal(t.valid, false);
  assert.match(t.reason ?? '', /digest mismatch/);
  // a different key does not verify
  assert.equal(verifyEnveloped(xml, svc.pki.cas['tsl-ca'].certificate).valid, false);
});

test('revocation status and the hierarchy survive a restart of the service', async () => {
  const dir = tempDir('pki-restart-');
  const first = await startPkiService({ host: '127.0.0.1', port: 0, dataDir: dir, env: {} as never, log: noLog });
  const issued = first.pki.issue({ profile: 'C.FD.SIG' });
  first.pki.revoke(issued.serialNumber, 'superseded');
  const rootBefore = first.pki.rootCertificate;
  await first.stop();
  const second = await startPkiService({ host: '127.0.0.1', port: 0, dataDir: dir, env: {} as never, log: noLog });
  try {
    assert.deepEqual(second.pki.rootCertificate, rootBefore);
    const res = await queryOcsp(`${second.url}/ocsp`, issued.certificate, issued.issuerCertificate);
    assert.equal(res.responses[0].certStatus, 'revoked');
    assert.equal(res.responses[0].revocationReason, 4);
  } finally {
    await second.stop();
  }
});

test('queryOcsp fails with typed errors: timeout, HTTP status, connection refused', async () => {
  const svc = await getService();
  const a = svc.pki.issue({ profile: 'C.HCI.AUT' });
  // a server that accepts and never answers
  const silent = net.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    await assert.rejects(
      queryOcsp(`http://127.0.0.1:${port}/ocsp`, a.certificate, a.issuerCertificate, { timeoutMs: 300 }),
      (e: unknown) => e instanceof OcspTransportError && e.kind === 'timeout',
    );
  } finally {
    silent.close();
  }
  await assert.rejects(
    queryOcsp(`${svc.url}/not-ocsp`, a.certificate, a.issuerCertificate),
    (e: unknown) => e instanceof OcspTransportError && e.kind === 'http-status' && e.httpStatus === 404,
  );
  // a port nobody listens on
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await assert.rejects(
    queryOcsp(`http://127.0.0.1:${closedPort}/ocsp`, a.certificate, a.issuerCertificate, { timeoutMs: 2000 }),
    (e: unknown) => e instanceof OcspTransportError && e.kind === 'network',
  );
});
