import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { bp256SignDigest } from '../../../simulators/lib/bp256';
import { CmsError } from '../../../simulators/lib/crypto-errors';
import {
  buildSignedData,
  buildSignedDataAsync,
  CMS_OID,
  certificateFields,
  parseSignedData,
  verifyDetachedSignature,
  verifySignedData,
} from '../../../simulators/lib/cms';
import { derOid, derUtf8String, parseBer, readEnumerated } from '../../../simulators/lib/der';
import { loadOrCreatePki, type Pki } from '../../../simulators/pki/hierarchy';
import { sharedPath } from '../../../simulators/lib/shared-data';

const SAMPLES_DIR = sharedPath('reference', 'qes-samples');
const SAMPLES = fs.readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.p7')).sort();
const isCms = (code: string) => (e: unknown) => e instanceof CmsError && e.code === code;

let tmp: string;
let pki: Pki;

function openssl(args: string[], input?: Buffer): { status: number; stdout: Buffer; stderr: string } {
  const r = spawnSync('openssl', args, { input, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`the openssl command-line tool is required for this test and could not be run: ${r.error.message}`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

before(async () => {
  openssl(['version']);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cms-test-'));
  pki = await loadOrCreatePki(path.join(tmp, 'pki'));
  fs.writeFileSync(path.join(tmp, 'root.pem'), pki.rootCertificatePem);
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('there are 12 real Konnektor samples', () => {
  assert.equal(SAMPLES.length, 12);
});

for (const name of SAMPLES) {
  test(`real Konnektor signature ${name}: parsed, attributes decoded, signature verifies`, () => {
    const der = fs.readFileSync(path.join(SAMPLES_DIR, name));
    const parsed = parseSignedData(der);
    assert.equal(parsed.eContentType, CMS_OID.data);
    const content = parsed.content!.toString('utf8');
    assert.match(content.replace(/^\uFEFF/, ''), /^<Bundle xmlns="http:\/\/hl7\.org\/fhir">/);
    assert.match(content, /https:\/\/fhir\.kbv\.de\/StructureDefinition\/KBV_PR_ERP_Bundle/);
    // Independent extraction of the content by openssl.
    const ossl = openssl(['cms', '-verify', '-noverify', '-inform', 'DER', '-binary'], der);
    assert.equal(ossl.status, 0, ossl.stderr);
    assert.ok(ossl.stdout.equals(parsed.content!), 'content equals what openssl extracts');

    assert.equal(parsed.signers.length, 1);
    const s = parsed.signers[0];
    assert.ok(s.certificate, 'signer certificate embedded');
    const cert = new crypto.X509Certificate(s.certificate!);
    assert.match(cert.issuer, /GEM\.HBA-qCA/);
    assert.equal(s.contentType, CMS_OID.data);
    assert.ok(s.signingTime instanceof Date && s.signingTime.getUTCFullYear() === 2021 && s.signingTime.getUTCMonth() === 3);
    assert.deepEqual(s.messageDigest, crypto.createHash('sha256').update(parsed.content!).digest());
    assert.deepEqual(s.signingCertificateV2![0].certHash, crypto.createHash('sha256').update(s.certificate!).digest());
    assert.equal(s.signingCertificateV2![0].issuerSerial!.serialNumber.toString('hex').toUpperCase().replace(/^0+/, ''), cert.serialNumber.replace(/^0+/, ''));
    assert.equal(s.signatureAlgorithm.oid, CMS_OID.rsassaPss);
    assert.equal(s.digestAlgorithm.oid, CMS_OID.sha256);
    assert.equal(parsed.ocspResponses.length, 1);
    assert.equal(readEnumerated(parseBer(parsed.ocspResponses[0]).child(0)), 0, 'OCSP responseStatus successful');

    const v = verifySignedData(der);
    assert.equal(v.signers[0].signatureScheme, 'RSASSA-PSS-SHA256');
    assert.equal(v.signers[0].signingCertificateChecked, true);
    assert.equal(v.signers[0].signingTime?.getTime(), s.signingTime.getTime());
  });
}

test('samples: base64 and PEM forms are detected and give the same result', () => {
  const der = fs.readFileSync(path.join(SAMPLES_DIR, SAMPLES[0]));
  const b64 = der.toString('base64');
  const pem = `-----BEGIN CMS-----\n${b64.replace(/.{64}/g, '$&\n')}\n-----END CMS-----\n`;
  for (const form of [b64, Buffer.from(b64), pem, Buffer.from(pem)]) {
    assert.deepEqual(parseSignedData(form).content, parseSignedData(der).content);
    verifySignedData(form);
  }
  assert.throws(() => parseSignedData('not base64 at all!'), isCms('NOT_CMS'));
  assert.throws(() => parseSignedData(Buffer.from([0x01, 0x02, 0xff])), isCms('NOT_CMS'));
  assert.throws(() => parseSignedData(Buffer.alloc(0)), isCms('EMPTY_INPUT'));
});

test('samples: a changed content byte, signature byte or signed attribute is detected', () => {
  const der = fs.readFileSync(path.join(SAMPLES_DIR, SAMPLES[2]));
  const parsed = parseSignedData(der);
  const contentAt = der.indexOf(parsed.content!.subarray(100, 140));
  const c = Buffer.from(der);
  c[contentAt] ^= 0x01;
  assert.throws(() => verifySignedData(c), isCms('DIGEST_MISMATCH'));
  const sigAt = der.indexOf(parsed.signers[0].signature);
  const s = Buffer.from(der);
  s[sigAt + 100] ^= 0x01;
  assert.throws(() => verifySignedData(s), isCms('BAD_SIGNATURE'));
  const attrs = parsed.signers[0].signedAttributesDer!;
  const attrAt = der.indexOf(attrs.subarray(1));
  const timeAt = der.indexOf(Buffer.from('210414', 'latin1'), attrAt);
  assert.ok(timeAt > attrAt);
  const t = Buffer.from(der);
  t[timeAt + 5] = t[timeAt + 5] === 0x35 ? 0x36 : 0x35;
  assert.throws(() => verifySignedData(t), isCms('BAD_SIGNATURE'));
});

function writeTmp(name: string, data: Buffer | string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, data);
  return p;
}

test('CAdES-BES built with a simulated HBA QES key verifies with our verifier and with openssl cms -verify -CAfile root', () => {
  const hba = pki.issue({ profile: 'C.HP.QES' });
  const ocsp = parseSignedData(fs.readFileSync(path.join(SAMPLES_DIR, SAMPLES[0]))).ocspResponses[0];
  const bundle = Buffer.from('<Bundle xmlns="http://hl7.org/fhir"><id value="x"/></Bundle>');
  const signingTime = new Date('2025-03-01T12:00:00Z');
  const cms = buildSignedData({
    content: bundle,
    signerCertificate: hba.certificate,
    privateKey: hba.privateKey,
    chain: [hba.issuerCertificate],
    signingTime,
    ocspResponses: [ocsp],
  });
  const parsed = parseSignedData(cms);
  assert.equal(parsed.version, 5);
  assert.deepEqual(parsed.content, bundle);
  assert.equal(parsed.certificates.length, 2);
  assert.deepEqual(parsed.ocspResponses, [ocsp]);
  const s = parsed.signers[0];
  assert.equal(s.signatureAlgorithm.oid, CMS_OID.ecdsaWithSha256);
  assert.equal(s.signingTime?.toISOString(), signingTime.toISOString());
  assert.deepEqual(s.certificate, hba.certificate);
  assert.deepEqual(s.signingCertificateV2![0].certHash, crypto.createHash('sha256').update(hba.certificate).digest());
  assert.equal(s.signingCertificateV2![0].hashAlgorithm.oid, CMS_OID.sha256);
  assert.deepEqual(s.signingCertificateV2![0].issuerSerial!.directoryName, certificateFields(hba.issuerCertificate).subject);
  assert.equal(BigInt(`0x${s.signingCertificateV2![0].issuerSerial!.serialNumber.toString('hex')}`), BigInt(`0x${new crypto.X509Certificate(hba.certificate).serialNumber}`));
  assert.equal(verifySignedData(cms).signers[0].signatureScheme, 'ECDSA-SHA256');

  const r = openssl(['cms', '-verify', '-inform', 'DER', '-in', writeTmp('bes.p7', cms), '-CAfile', path.join(tmp, 'root.pem'), '-binary'], undefined);
  assert.equal(r.status, 0, `openssl cms -verify failed: ${r.stderr}`);
  assert.match(r.stderr, /Verification successful/);
  assert.ok(r.stdout.equals(bundle));
  // openssl sees the signingCertificateV2 and messageDigest we wrote.
  const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', path.join(tmp, 'bes.p7')]).stdout.toString();
  assert.match(printed, /id-smime-aa-signingCertificateV2/);
  assert.match(printed, /1\.3\.6\.1\.5\.5\.7\.16\.2/);
});

test('openssl rejects our CMS under a foreign root (the openssl check is not vacuous)', () => {
  const hba = pki.issue({ profile: 'C.HP.QES' });
  const cms = buildSignedData({ content: 'x', signerCertificate: hba.certificate, privateKey: hba.privateKey });
  const foreignRoot = fs.readFileSync(path.join(SAMPLES_DIR, SAMPLES[0]));
  const foreignCert = new crypto.X509Certificate(parseSignedData(foreignRoot).certificates[0]).toString();
  const r = openssl(['cms', '-verify', '-inform', 'DER', '-in', writeTmp('foreign.p7', cms), '-CAfile', writeTmp('foreign.pem', foreignCert)]);
  assert.notEqual(r.status, 0);
});

test('external (card-style) signer: digest of the signed attributes signed with raw r||s', async () => {
  const hba = pki.issue({ profile: 'C.HP.QES' });
  let seenDigest: Buffer | undefined;
  const cms = await buildSignedDataAsync({
    content: 'prescription',
    signerCertificate: hba.certificatePem,
    chain: [hba.issuerPem],
    signDigest: (digest) => {
      seenDigest = digest;
      return bp256SignDigest(digest, hba.privateKey);
    },
  });
  const parsed = parseSignedData(cms);
  assert.deepEqual(seenDigest, crypto.createHash('sha256').update(parsed.signers[0].signedAttributesDer!).digest());
  assert.equal(parsed.version, 1);
  verifySignedData(cms);
  const r = openssl(['cms', '-verify', '-inform', 'DER', '-in', writeTmp('card.p7', cms), '-CAfile', path.join(tmp, 'root.pem'), '-out', path.join(tmp, 'card.out')]);
  assert.equal(r.status, 0, r.stderr);
});

test('detached signature: no eContent, verified with the content given separately (also by openssl)', () => {
  const hba = pki.issue({ profile: 'C.HP.QES' });
  const content = Buffer.from('detached content');
  const cms = buildSignedData({ content, signerCertificate: hba.certificate, privateKey: hba.privateKey, chain: [hba.issuerCertificate], detached: true });
  const parsed = parseSignedData(cms);
  assert.equal(parsed.content, undefined);
  assert.throws(() => verifySignedData(cms), isCms('DETACHED_CONTENT_REQUIRED'));
  assert.equal(verifyDetachedSignature(cms, content).content.toString(), 'detached content');
  assert.throws(() => verifyDetachedSignature(cms, Buffer.from('other content')), isCms('DIGEST_MISMATCH'));
  const r = openssl(['cms', '-verify', '-inform', 'DER', '-in', writeTmp('det.p7', cms), '-content', writeTmp('det.txt', content), '-binary', '-CAfile', path.join(tmp, 'root.pem')]);
  assert.equal(r.status, 0, r.stderr);
});

test('a CMS produced by openssl with a brainpool key verifies with our verifier', () => {
  const hba = pki.issue({ profile: 'C.HP.QES' });
  const r = openssl([
    'cms', '-sign', '-binary', '-nodetach', '-outform', 'DER',
    '-signer', writeTmp('os-signer.pem', hba.certificatePem),
    '-inkey', writeTmp('os-key.pem', hba.privateKeyPem),
    '-in', writeTmp('os-content.txt', 'signed by openssl'),
  ]);
  assert.equal(r.status, 0, r.stderr);
  const v = verifySignedData(r.stdout);
  assert.equal(v.content.toString(), 'signed by openssl');
  assert.equal(v.signers[0].signatureScheme, 'ECDSA-SHA256');
});

test('RSA signer keys get RSASSA-PSS (SHA-256, salt 32), verifiable by openssl', () => {
  const key = writeTmp('rsa.key', crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  execFileSync('openssl', ['req', '-new', '-x509', '-key', key, '-subj', '/CN=RSA HBA TEST-ONLY', '-days', '2', '-out', path.join(tmp, 'rsa.pem')], { stdio: 'pipe' });
  const certPem = fs.readFileSync(path.join(tmp, 'rsa.pem'), 'utf8');
  const cms = buildSignedData({ content: 'rsa', signerCertificate: certPem, privateKey: crypto.createPrivateKey(fs.readFileSync(key)) });
  const v = verifySignedData(cms);
  assert.equal(v.signers[0].signatureScheme, 'RSASSA-PSS-SHA256');
  const r = openssl(['cms', '-verify', '-inform', 'DER', '-in', writeTmp('rsa.p7', cms), '-CAfile', path.join(tmp, 'rsa.pem')]);
  assert.equal(r.status, 0, r.stderr);
});

test('builder refuses a key that does not belong to the certificate and bad OCSP input', () => {
  const hba = pki.issue({ profile: 'C.HP.QES' });
  const other = pki.issue({ profile: 'C.HP.QES' });
  assert.throws(() => buildSignedData({ content: 'x', signerCertificate: hba.certificate, privateKey: other.privateKey }), isCms('INVALID_OPTIONS'));
  assert.throws(() => buildSignedData({ content: 'x', signerCertificate: hba.certificate, privateKey: hba.privateKey, ocspResponses: [Buffer.from('nope')] }), isCms('INVALID_OPTIONS'));
  assert.throws(() => buildSignedData({ content: 'x', signerCertificate: Buffer.from('garbage'), privateKey: hba.privateKey }), isCms('BAD_CERTIFICATE'));
});

test('verification with a different certificate or a mismatching signingCertificateV2 fails', () => {
  const hba = pki.issue({ profile: 'C.HP.QES' });
  const other = pki.issue({ profile: 'C.HP.QES' });
  const cms = buildSignedData({ content: 'x', signerCertificate: hba.certificate, privateKey: hba.privateKey });
  assert.throws(() => verifySignedData(cms, { signerCertificate: other.certificate }), isCms('SIGNING_CERTIFICATE_MISMATCH'));
  // Without the embedded certificate the signer cannot be found.
  const parsed = parseSignedData(cms);
  assert.throws(() => verifySignedData({ ...parsed, signers: parsed.signers.map((s) => ({ ...s, certificate: undefined })) }), isCms('SIGNER_CERT_NOT_FOUND'));
});

test('extra signed attributes (e.g. mimeType as Konnektors add it) are signed and parsed; builder-owned ones are refused', () => {
  const hba = pki.issue({ profile: 'C.HP.QES' });
  const mimeType = { oid: CMS_OID.mimeType, values: [derUtf8String('text/plain; charset=utf-8')] };
  const cms = buildSignedData({ content: 'x', signerCertificate: hba.certificate, privateKey: hba.privateKey, extraSignedAttributes: [mimeType] });
  const attr = parseSignedData(cms).signers[0].signedAttributes!.find((a) => a.oid === CMS_OID.mimeType);
  assert.deepEqual(attr?.values, mimeType.values);
  verifySignedData(cms);
  const duplicate = { oid: CMS_OID.contentType, values: [derOid(CMS_OID.data)] };
  assert.throws(() => buildSignedData({ content: 'x', signerCertificate: hba.certificate, privateKey: hba.privateKey, extraSignedAttributes: [duplicate] }), isCms('INVALID_OPTIONS'));
});
