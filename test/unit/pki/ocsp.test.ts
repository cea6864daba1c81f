import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import {
  buildOcspErrorResponse,
  buildOcspRequest,
  OcspError,
  parseOcspRequest,
  parseOcspResponse,
  verifyOcspResponse,
} from '../../../simulators/lib/ocsp';
import { buildCertificate, ext, generateBrainpoolKeyPair, keyIdentifier } from '../../../simulators/lib/x509';
import { loadOrCreatePki, type Pki } from '../../../simulators/pki/hierarchy';
import { createOcspResponder } from '../../../simulators/pki/ocsp-responder';
import { REFERENCE_DIR, tempDir } from './helpers';

const clockTime = new Date('2026-03-01T10:00:00Z');
let pkiPromise: Promise<Pki> | undefined;
const getPki = () => (pkiPromise ??= loadOrCreatePki(tempDir('pki-ocsp-'), { clock: () => clockTime }));
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest();

test('an OCSP request round-trips (CertID hashes, serial, nonce)', async () => {
  const pki = await getPki();
  const issued = pki.issue({ profile: 'C.HCI.AUT' });
  const nonce = crypto.randomBytes(16);
  const req = parseOcspRequest(buildOcspRequest(issued.certificate, issued.issuerCertificate, { nonce }));
  assert.equal(req.requests.length, 1);
  assert.equal(req.requests[0].serialNumber, issued.serialNumber);
  assert.equal(req.requests[0].hashAlgorithm, 'sha1');
  assert.deepEqual(req.requests[0].issuerNameHash, pki.cas['smcb-ca'].nameHash.sha1);
  assert.deepEqual(req.requests[0].issuerKeyHash, pki.cas['smcb-ca'].keyHash.sha1);
  assert.deepEqual(req.nonce, nonce);
  const req256 = parseOcspRequest(buildOcspRequest(issued.certificate, issued.issuerCertificate, { hashAlgorithm: 'sha256' }));
  assert.deepEqual(req256.requests[0].issuerKeyHash, pki.cas['smcb-ca'].keyHash.sha256);
  assert.equal(req256.nonce, undefined);
});

test('the responder answers good with CertHash, thisUpdate from the clock and the echoed nonce', async () => {
  const pki = await getPki();
  const respond = createOcspResponder(pki);
  const issued = pki.issue({ profile: 'C.HP.QES' });
  const nonce = crypto.randomBytes(20);
  const res = parseOcspResponse(respond(buildOcspRequest(issued.certificate, issued.issuerCertificate, { nonce })));
  assert.equal(res.responseStatus, 'successful');
  assert.equal(res.responses.length, 1);
  const r = res.responses[0];
  assert.equal(r.certStatus, 'good');
  assert.equal(r.serialNumber, issued.serialNumber);
  assert.deepEqual(r.certHash, sha256(issued.certificate));
  assert.equal(r.certHashAlgorithm, 'sha256');
  assert.equal(r.thisUpdate.toISOString(), clockTime.toISOString());
  assert.equal(res.producedAt?.toISOString(), clockTime.toISOString());
  assert.equal(r.nextUpdate, undefined);
  assert.deepEqual(res.nonce, nonce);
  // signed by the delegated responder of the HBA-qCA, which is included together with its CA
  assert.deepEqual(res.responderCertificates, [pki.cas['hba-qca'].ocspSigner.certificate, pki.cas['hba-qca'].certificate]);
  const v = verifyOcspResponse(res, issued.issuerCertificate);
  assert.equal(v.valid, true, v.reason);
  assert.equal(v.signer, 'delegated-responder');
  assert.equal(verifyOcspResponse(res, pki.cas['hba-qca'].ocspSigner.certificate).valid, true);
});

test('the responder answers revoked with time and reason', async () => {
  const pki = await getPki();
  const respond = createOcspResponder(pki);
  const issued = pki.issue({ profile: 'C.CH.AUT' });
  pki.revoke(issued.serialNumber, 'keyCompromise', new Date('2026-02-01T08:00:00Z'));
  const res = parseOcspResponse(respond(buildOcspRequest(issued.certificate, issued.issuerCertificate)));
  const r = res.responses[0];
  assert.equal(r.certStatus, 'revoked');
  assert.equal(r.revocationTime?.toISOString(), '2026-02-01T08:00:00.000Z');
  assert.equal(r.revocationReason, 1);
  assert.deepEqual(r.certHash, sha256(issued.certificate));
  assert.equal(verifyOcspResponse(res, issued.issuerCertificate).valid, true);
  pki.reinstate(issued.serialNumber);
  assert.equal(parseOcspResponse(respond(buildOcspRequest(issued.certificate, issued.issuerCertificate))).responses[0].certStatus, 'good');
});

test('unknown: a serial the CA never issued, and an issuer that is not ours', async () => {
  const pki = await getPki();
  const respond = createOcspResponder(pki);
  const ca = pki.cas['komp-ca'];
  // signed with the real CA key but never registered: the CA does not know this serial
  const kp = generateBrainpoolKeyPair();
  const rogue = buildCertificate({
    serialNumber: Buffer.from('0102030405060708', 'hex'),
    issuer: ca.parsed.subjectDer,
    subject: [{ type: 'CN', value: 'rogue' }],
    notBefore: clockTime,
    notAfter: new Date(clockTime.getTime() + 86400_000),
    publicKey: kp.publicKey,
    signingKey: ca.privateKey,
    extensions: [ext.basicConstraints(false)],
  });
  const res = parseOcspResponse(respond(buildOcspRequest(rogue, ca.certificate)));
  assert.equal(res.responses[0].certStatus, 'unknown');
  assert.equal(res.responses[0].certHash, undefined);
  assert.equal(verifyOcspResponse(res, ca.certificate).valid, true);

  // a serial issued by another of our CAs does not count for this CA
  const egk = pki.issue({ profile: 'C.CH.AUT' });
  const crossed = buildCertificate({
    serialNumber: Buffer.from(egk.serialNumber, 'hex'),
    issuer: ca.parsed.subjectDer,
    subject: [{ type: 'CN', value: 'crossed' }],
    notBefore: clockTime,
    notAfter: new Date(clockTime.getTime() + 86400_000),
    publicKey: kp.publicKey,
    signingKey: ca.privateKey,
    extensions: [],
  });
  assert.equal(parseOcspResponse(respond(buildOcspRequest(crossed, ca.certificate))).responses[0].certStatus, 'unknown');

  // a foreign CA
  const foreignKeys = generateBrainpoolKeyPair();
  const foreignDn = [{ type: 'CN', value: 'Foreign CA' }];
  const foreignCa = buildCertificate({
    serialNumber: Buffer.from([7]),
    issuer: foreignDn,
    subject: foreignDn,
    notBefore: clockTime,
    notAfter: new Date(clockTime.getTime() + 86400_000),
    publicKey: foreignKeys.publicKey,
    signingKey: foreignKeys.privateKey,
    extensions: [ext.basicConstraints(true), ext.subjectKeyIdentifier(keyIdentifier(foreignKeys.publicKey))],
  });
  const foreignLeaf = buildCertificate({
    serialNumber: Buffer.from(egk.serialNumber, 'hex'),
    issuer: foreignDn,
    subject: [{ type: 'CN', value: 'foreign leaf' }],
    notBefore: clockTime,
    notAfter: new Date(clockTime.getTime() + 86400_000),
    publicKey: kp.publicKey,
    signingKey: foreignKeys.privateKey,
    extensions: [],
  });
  const foreign = parseOcspResponse(respond(buildOcspRequest(foreignLeaf, foreignCa)));
  assert.equal(foreign.responses[0].certStatus, 'unknown');
  // nobody can make the foreign CA vouch for our responder
  assert.equal(verifyOcspResponse(foreign, foreignCa).valid, false);
});

test('several certificates in one request are answered in order', async () => {
  const pki = await getPki();
  const respond = createOcspResponder(pki);
  const a = pki.issue({ profile: 'C.HCI.AUT' });
  const b = pki.issue({ profile: 'C.HCI.AUT', status: 'revoked' });
  const one = parseOcspRequest(buildOcspRequest(a.certificate, a.issuerCertificate));
  const two = parseOcspRequest(buildOcspRequest(b.certificate, b.issuerCertificate));
  // combine the two CertIDs into one request
  const { OCSPRequest, TBSRequest, Request } = await import('@peculiar/asn1-ocsp');
  const der = Buffer.from(
    AsnConvert.serialize(
      new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: one.requests[0].certId }), new Request({ reqCert: two.requests[0].certId })] }) }),
    ),
  );
  const res = parseOcspResponse(respond(der));
  assert.deepEqual(
    res.responses.map((r) => [r.serialNumber, r.certStatus]),
    [
      [a.serialNumber, 'good'],
      [b.serialNumber, 'revoked'],
    ],
  );
});

test('verification fails for a tampered response or the wrong trust anchor', async () => {
  const pki = await getPki();
  const respond = createOcspResponder(pki);
  const issued = pki.issue({ profile: 'C.HCI.AUT' });
  const der = respond(buildOcspRequest(issued.certificate, issued.issuerCertificate));
  const good = parseOcspResponse(der);
  assert.equal(verifyOcspResponse(good, issued.issuerCertificate).valid, true);
  // another CA of ours did not issue the responder certificate
  const wrong = verifyOcspResponse(good, pki.cas['egk-ca'].certificate);
  assert.equal(wrong.valid, false);
  assert.match(wrong.reason ?? '', /not issued by the trusted certificate/);
  // flip one bit of the signed data (the producedAt time) and the signature no longer matches
  const idx = der.indexOf(Buffer.from('20260301100000Z', 'ascii'));
  assert.ok(idx > 0);
  const tampered = Buffer.from(der);
  tampered[idx + 3] ^= 0x01;
  assert.equal(verifyOcspResponse(parseOcspResponse(tampered), issued.issuerCertificate).valid, false);
});

test('nextUpdate is set when configured', async () => {
  const pki = await getPki();
  const respond = createOcspResponder(pki, { nextUpdateSeconds: 3600 });
  const issued = pki.issue({ profile: 'C.HCI.AUT' });
  const r = parseOcspResponse(respond(buildOcspRequest(issued.certificate, issued.issuerCertificate))).responses[0];
  assert.equal(r.nextUpdate?.getTime(), clockTime.getTime() + 3600_000);
});

test('malformed requests get malformedRequest, never an exception', async () => {
  const pki = await getPki();
  const respond = createOcspResponder(pki);
  for (const junk of [Buffer.alloc(0), Buffer.from('hello'), Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]), crypto.randomBytes(300)]) {
    const res = parseOcspResponse(respond(junk));
    assert.equal(res.responseStatus, 'malformedRequest');
    assert.equal(res.responses.length, 0);
  }
  assert.throws(() => parseOcspRequest(Buffer.from('x')), OcspError);
  assert.throws(() => parseOcspResponse(Buffer.from('not ocsp')), OcspError);
  assert.equal(parseOcspResponse(buildOcspErrorResponse('unauthorized')).responseStatus, 'unauthorized');
  assert.equal(parseOcspResponse(buildOcspErrorResponse('internalError')).responseStatus, 'internalError');
});

/** The OCSP response a real Konnektor embedded in a QES (CMS RevocationInfoChoice other, id-ri-ocsp-response). */
function realTiOcspResponse(file: string): { ocsp: Buffer; signerCertificate: Buffer } {
  const p7 = fs.readFileSync(path.join(REFERENCE_DIR, 'qes-samples', file));
  const oid = Buffer.from('06082b06010505071002', 'hex'); // 1.3.6.1.5.5.7.16.2
  const at = p7.indexOf(oid) + oid.length;
  assert.ok(at > oid.length);
  assert.equal(p7[at], 0x30);
  const lenBytes = p7[at + 1] & 0x7f;
  const len = p7[at + 1] & 0x80 ? p7.readUIntBE(at + 2, lenBytes) : p7[at + 1];
  const header = p7[at + 1] & 0x80 ? 2 + lenBytes : 2;
  const ci = AsnConvert.parse(p7, ContentInfo);
  const sd = AsnConvert.parse(ci.content, SignedData);
  const cert = sd.certificates?.[0]?.certificate;
  assert.ok(cert);
  return { ocsp: p7.subarray(at, at + header + len), signerCertificate: Buffer.from(AsnConvert.serialize(cert)) };
}

test('a real TI OCSP response (from a Konnektor QES sample) parses: good, CertHash of the signer certificate', () => {
  const { ocsp, signerCertificate } = realTiOcspResponse('0428d416-149e-48a4-977c-394887b3d85c_S_KOCOC_kocobox_3.6.0_2.3.24.p7');
  const res = parseOcspResponse(ocsp);
  assert.equal(res.responseStatus, 'successful');
  assert.equal(res.responses.length, 1);
  assert.equal(res.responses[0].certStatus, 'good');
  assert.equal(res.responses[0].certId.hashAlgorithm, 'sha1');
  assert.deepEqual(res.responses[0].certHash, sha256(signerCertificate));
  assert.equal(res.responses[0].certInDirSince?.toISOString(), '2018-11-05T15:34:39.000Z');
  assert.equal(res.responderCertificates.length, 1);
  // the real responder (RSA, sha256WithRSAEncryption) signed it
  const v = verifyOcspResponse(res, res.responderCertificates[0]);
  assert.equal(v.valid, true, v.reason);
});
