/**
 * VerifyDocument's verification logic: our own QES (signed by a persona card's OS in-process, the
 * PKI's OCSP responder in-process), tampering, revoked and expired HBAs, missing OCSP, detached
 * signatures, the 12 real Konnektor samples, and the verification report against the XSD.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildPersonaCardSync, personaIdentity } from '../../../cards/index';
import { AID } from '../../../cards/objsys/common';
import { buildSignedDataAsync, parseSignedData } from '../../../simulators/lib/cms';
import { buildOcspRequest } from '../../../simulators/lib/ocsp';
import { encodePinBlock } from '../../../simulators/lib/pin-block';
import { sharedPath } from '../../../simulators/lib/shared-data';
import { serialize } from '../../../simulators/lib/xml';
import { createOcspResponder } from '../../../simulators/pki/ocsp-responder';
import { buildVerifyDocumentResponse } from '../../../simulators/konnektor/dss';
import { NotCmsError, verifyCmsSignature, type VerifyDeps } from '../../../simulators/konnektor/verify-document';
import { testEnvironment } from '../cards/helpers';

const XSD_SIG75 = sharedPath('reference', 'konnektor-schemas', 'conn', 'SignatureService_V7_5_6.xsd');

/** xmllint --schema; '' when valid, else xmllint's complaint. */
function xsdErrors(xml: string, xsd: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kon-xsd-'));
  try {
    fs.writeFileSync(path.join(dir, 'doc.xml'), xml);
    const r = spawnSync('xmllint', ['--noout', '--schema', xsd, path.join(dir, 'doc.xml')], { encoding: 'utf8', timeout: 30_000 });
    return r.status === 0 ? '' : `${r.stderr}${r.stdout}`.trim() || `xmllint exit ${r.status}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const env = testEnvironment('kon-verify-');
const opts = { pki: env.pki, cacheDir: env.cacheDir };
const responder = createOcspResponder(env.pki);
let ocspCalls = 0;
const deps = (over: Partial<VerifyDeps> = {}): VerifyDeps => ({
  trust: { anchors: [env.pki.rootCertificate], intermediates: Object.values(env.pki.cas).map((c) => c.certificate) },
  fetchOcsp: async (cert, issuer) => {
    ocspCalls++;
    return responder(buildOcspRequest(cert, issuer));
  },
  now: () => new Date(),
  ...over,
});

test.after(() => fs.rmSync(env.root, { recursive: true, force: true }));

function ok(rsp: Buffer, what: string): Buffer {
  const sw = rsp.readUInt16BE(rsp.length - 2);
  assert.equal(sw, 0x9000, `${what}: ${sw.toString(16)}`);
  return rsp.subarray(0, rsp.length - 2);
}

/** A QES made by the persona's card OS (VERIFY PIN.QES, MSE SET, PSO CDS): the card computes it. */
async function qes(persona: string, content: Buffer, extra: { detached?: boolean; ocsp?: Buffer[] } = {}): Promise<Buffer> {
  const id = personaIdentity(persona, opts);
  const card = buildPersonaCardSync(persona, opts);
  card.powerOn();
  ok(card.transmit(Buffer.concat([Buffer.from('00A4040C06', 'hex'), Buffer.from(AID.QES, 'hex')])), 'SELECT DF.QES');
  ok(card.transmit(Buffer.concat([Buffer.from('0020008108', 'hex'), encodePinBlock(id.persona.pins['PIN.QES'].pin)])), 'VERIFY PIN.QES');
  ok(card.transmit(Buffer.from('002241B606840186800100', 'hex')), 'MSE SET');
  return buildSignedDataAsync({
    content,
    signerCertificate: id.certificates['C.HP.QES'].certificate,
    detached: extra.detached,
    ocspResponses: extra.ocsp,
    signDigest: (d) => ok(card.transmit(Buffer.concat([Buffer.from([0x00, 0x2a, 0x9e, 0x9a, d.length]), d, Buffer.from([0])])), 'PSO CDS'),
  });
}

function reportValidates(r: Awaited<ReturnType<typeof verifyCmsSignature>>): void {
  const xml = serialize(buildVerifyDocumentResponse({ highLevelResult: r.highLevelResult, timestampType: r.timestampType, timestamp: r.timestamp, status: { result: 'OK' }, report: r.report }, new Date()));
  assert.equal(xsdErrors(xml, XSD_SIG75), '');
}

const DOC = Buffer.from('<Bundle xmlns="http://hl7.org/fhir"><id value="160.000.000.000.000.01"/></Bundle>');

test('a QES of an HBA of the simulated TI is VALID: mathematics, path to the root, OCSP good, profession OID', async () => {
  const cms = await qes('Dr. Hanna Ebert', DOC);
  const before = ocspCalls;
  const r = await verifyCmsSignature(cms, { includeCertificateValues: true }, deps());
  assert.equal(r.highLevelResult, 'VALID', JSON.stringify(r.report.signers[0]?.message));
  assert.equal(ocspCalls, before + 1, 'the status was fetched from the responder');
  assert.equal(r.timestampType, 'SIGNATURE_EMBEDDED_TIMESTAMP');
  const s = r.report.signers[0];
  assert.equal(s.sigMath.result, 'valid');
  assert.equal(s.pathSummary.result, 'valid');
  assert.equal(s.trustAnchor.result, 'valid');
  assert.equal(s.certificates.length, 3, 'HBA QES certificate, GEM.HBA-qCA-SIM, root');
  assert.equal(s.certificates[0].status.result, 'valid');
  assert.equal(s.certificates[0].ocsp?.source, 'fetched');
  assert.deepEqual(s.certificates[0].admission?.professionOids, ['1.2.276.0.76.4.30']);
  assert.equal(s.certificates[0].admission?.registrationNumber, '1-HBA-Testkarte-883119910000001');
  assert.equal(s.signatureAlgorithmUri, 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256');
  reportValidates(r);
});

test('an embedded OCSP response is used without asking the responder', async () => {
  const id = personaIdentity('Dr. Hanna Ebert', opts);
  const c = id.certificates['C.HP.QES'];
  const ocsp = responder(buildOcspRequest(c.certificate, c.issuerCertificate));
  const cms = await qes('Dr. Hanna Ebert', DOC, { ocsp: [ocsp] });
  const r = await verifyCmsSignature(cms, {}, deps({ fetchOcsp: async () => assert.fail('must not fetch') }));
  assert.equal(r.highLevelResult, 'VALID');
  assert.equal(r.report.signers[0].certificates[0].ocsp?.source, 'embedded');
});

test('a tampered document is INVALID (messageDigest), and so is a changed signature value', async () => {
  const cms = await qes('Dr. Hanna Ebert', DOC);
  const at = cms.indexOf(DOC);
  assert.ok(at > 0);
  const tampered = Buffer.from(cms);
  tampered[at + DOC.indexOf('000.01')] ^= 0x01;
  const r = await verifyCmsSignature(tampered, {}, deps());
  assert.equal(r.highLevelResult, 'INVALID');
  assert.match(r.report.signers[0].sigMath.message ?? '', /DIGEST_MISMATCH/);
  reportValidates(r);
  const sig = parseSignedData(cms).signers[0].signature;
  const broken = Buffer.from(cms);
  const sAt = broken.indexOf(sig);
  broken[sAt + sig.length - 3] ^= 0x40;
  const r2 = await verifyCmsSignature(broken, {}, deps());
  assert.equal(r2.highLevelResult, 'INVALID');
  assert.match(r2.report.signers[0].sigMath.message ?? '', /BAD_SIGNATURE|INVALID/);
});

test('a revoked HBA (Dr. Sabine Roth) is INVALID: revoked before the signing time', async () => {
  const cms = await qes('Dr. Sabine Roth', DOC);
  const r = await verifyCmsSignature(cms, {}, deps());
  assert.equal(r.highLevelResult, 'INVALID');
  const c = r.report.signers[0].certificates[0];
  assert.equal(c.status.result, 'invalid');
  assert.equal(c.revocation?.reason, 'keyCompromise');
  assert.match(r.report.signers[0].message, /revoked/);
  reportValidates(r);
  // Judged at a time before the revocation (UseVerificationTime), the same signature is VALID.
  const early = new Date((c.revocation as { date: Date }).date.getTime() - 1000);
  const r2 = await verifyCmsSignature(cms, { verificationTime: { kind: 'specific', time: early } }, deps());
  assert.equal(r2.timestampType, 'USER_DEFINED_TIMESTAMP');
  assert.equal(r2.report.signers[0].certificates[0].status.result, 'valid');
  assert.equal(r2.highLevelResult, 'VALID');
});

test('an expired HBA certificate (Dr. Tobias Gerber) is INVALID: outside its validity period', async () => {
  const cms = await qes('Dr. Tobias Gerber', DOC);
  const r = await verifyCmsSignature(cms, {}, deps());
  assert.equal(r.highLevelResult, 'INVALID');
  assert.equal(r.report.signers[0].certificates[0].validityPeriod.result, 'invalid');
});

test('without any OCSP answer the result is INCONCLUSIVE', async () => {
  const cms = await qes('Dr. Hanna Ebert', DOC);
  const r = await verifyCmsSignature(cms, {}, deps({ fetchOcsp: async () => undefined }));
  assert.equal(r.highLevelResult, 'INCONCLUSIVE');
  assert.equal(r.report.signers[0].certificates[0].status.result, 'indetermined');
});

test('a detached signature verifies with its document and is INVALID without it or with another one', async () => {
  const cms = await qes('Dr. Hanna Ebert', DOC, { detached: true });
  assert.equal((await verifyCmsSignature(cms, { detachedContent: DOC }, deps())).highLevelResult, 'VALID');
  assert.equal((await verifyCmsSignature(cms, {}, deps())).highLevelResult, 'INVALID');
  assert.equal((await verifyCmsSignature(cms, { detachedContent: Buffer.from('other') }, deps())).highLevelResult, 'INVALID');
});

test('bytes that are no CMS are refused; a truncated CMS is INVALID', async () => {
  await assert.rejects(verifyCmsSignature(Buffer.from('hello world'), {}, deps()), NotCmsError);
  const cms = await qes('Dr. Hanna Ebert', DOC);
  const r = await verifyCmsSignature(cms.subarray(0, cms.length - 40), {}, deps());
  assert.equal(r.highLevelResult, 'INVALID');
  assert.match(r.report.formatError ?? '', /cannot be read/);
  reportValidates(r);
});

test('the 12 real Konnektor QES samples: mathematics valid, issuer unknown to the simulated TI → INCONCLUSIVE, no error', async () => {
  const dir = sharedPath('reference', 'qes-samples');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.p7')).sort();
  assert.equal(files.length, 12);
  for (const f of files) {
    const r = await verifyCmsSignature(fs.readFileSync(path.join(dir, f)), {}, deps());
    const s = r.report.signers[0];
    assert.equal(r.highLevelResult, 'INCONCLUSIVE', `${f}: ${s.message}`);
    assert.equal(s.sigMath.result, 'valid', f);
    assert.equal(s.signatureAlgorithmUri, 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1', f);
    assert.equal(s.trustAnchor.result, 'indetermined', f);
    assert.match(s.certificates[0].issuer, /GEM\.HBA-qCA24 TEST-ONLY/, f);
    assert.equal(s.certificates[0].ocsp?.source, 'embedded', `${f}: the embedded OCSP response is found`);
    assert.equal(r.timestampType, 'SIGNATURE_EMBEDDED_TIMESTAMP');
    reportValidates(r);
  }
});
