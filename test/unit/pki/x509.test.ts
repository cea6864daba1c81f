import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  buildCertificate,
  decodeAdmission,
  encodeAdmission,
  ext,
  generateBrainpoolKeyPair,
  isSignedBy,
  keyIdentifier,
  normalizeSerialHex,
  OID,
  parseCertificate,
  pemBlocks,
  pemToDer,
  toPem,
  type DistinguishedName,
} from '../../../simulators/lib/x509';
import { openssl, REFERENCE_DIR, tempDir, writeFile } from './helpers';

/** Extracts the DER certificate stored in an elementary file of a gematik card image. */
function cardCertificate(image: string, fileId: string): Buffer {
  const xml = fs.readFileSync(path.join(REFERENCE_DIR, 'card-images', image), 'utf8');
  const start = xml.indexOf(`<child id="${fileId}"`);
  assert.ok(start >= 0, `${fileId} not in ${image}`);
  const m = /<attribute id="body">([0-9a-fA-F]+)<\/attribute>/.exec(xml.slice(start));
  assert.ok(m);
  const body = Buffer.from(m[1], 'hex');
  // The file is padded: cut at the DER length of the outer SEQUENCE (30 82 LL LL).
  return body.subarray(0, 4 + body.readUInt16BE(2));
}

const rootDn: DistinguishedName = [
  { type: 'C', value: 'DE' },
  { type: 'O', value: 'unit test' },
  { type: 'CN', value: 'Test Root' },
];

const keys = generateBrainpoolKeyPair();
const leafKeys = generateBrainpoolKeyPair();
const now = new Date();
const root = buildCertificate({
  serialNumber: Buffer.from([0x01]),
  issuer: rootDn,
  subject: rootDn,
  notBefore: now,
  notAfter: new Date(now.getTime() + 86400_000),
  publicKey: keys.publicKey,
  signingKey: keys.privateKey,
  extensions: [ext.basicConstraints(true), ext.keyUsage(['keyCertSign', 'cRLSign']), ext.subjectKeyIdentifier(keyIdentifier(keys.publicKey))],
});
const admission = {
  admissionAuthority: [{ type: 'C', value: 'DE' }, { type: 'O', value: 'Ärztekammer' }] as DistinguishedName,
  professionItems: ['Ärztin/Arzt'],
  professionOids: ['1.2.276.0.76.4.30'],
  registrationNumber: '1-HBA-Testkarte-1234',
};
const leaf = buildCertificate({
  // high bit set: must be encoded with a leading zero to stay positive
  serialNumber: Buffer.from('8a0102030405', 'hex'),
  issuer: parseCertificate(root).subjectDer,
  subject: [{ type: 'C', value: 'DE' }, [{ type: 'GN', value: 'Hanna' }, { type: 'SN', value: 'Ebert' }, { type: 'CN', value: 'Hanna Ebert' }]],
  notBefore: now,
  notAfter: new Date(now.getTime() + 3600_000),
  publicKey: leafKeys.publicKey,
  signingKey: keys.privateKey,
  extensions: [
    ext.basicConstraints(false),
    ext.keyUsage(['nonRepudiation']),
    ext.extKeyUsage([OID.kpClientAuth]),
    ext.certificatePolicies(['1.2.276.0.76.4.72', '1.2.276.0.76.4.145']),
    ext.authorityInfoAccessOcsp('http://127.0.0.1:8440/ocsp'),
    ext.authorityKeyIdentifier(keyIdentifier(keys.publicKey)),
    ext.admission(admission),
    ext.subjectAltName({ dns: ['localhost'], ip: ['127.0.0.1'] }),
  ],
});

test('a built certificate parses back with all its extensions', () => {
  const p = parseCertificate(leaf);
  assert.equal(p.serialNumber, '8a0102030405');
  assert.equal(p.namedCurve, 'brainpoolP256r1');
  assert.equal(p.signatureAlgorithm, OID.ecdsaWithSha256);
  assert.equal(p.issuer, 'C=DE, O=unit test, CN=Test Root');
  assert.deepEqual(
    p.subjectAttributes.map((a) => `${a.type}=${a.value}`).sort(),
    ['C=DE', 'CN=Hanna Ebert', 'GN=Hanna', 'SN=Ebert'],
  );
  assert.equal(p.isCa, false);
  assert.deepEqual(p.keyUsage, ['nonRepudiation']);
  assert.deepEqual(p.extKeyUsage, [OID.kpClientAuth]);
  assert.deepEqual(p.policies, ['1.2.276.0.76.4.72', '1.2.276.0.76.4.145']);
  assert.deepEqual(p.ocspUrls, ['http://127.0.0.1:8440/ocsp']);
  assert.deepEqual(p.subjectAltNames, { dns: ['localhost'], ip: ['127.0.0.1'], email: [] });
  assert.deepEqual(p.authorityKeyIdentifier, keyIdentifier(keys.publicKey));
  assert.deepEqual(p.admission, {
    admissionAuthority: 'C=DE, O=Ärztekammer',
    professions: [{ professionItems: ['Ärztin/Arzt'], professionOids: ['1.2.276.0.76.4.30'], registrationNumber: '1-HBA-Testkarte-1234' }],
  });
});

test('signatures verify with the issuer key only', () => {
  assert.equal(isSignedBy(leaf, root), true);
  assert.equal(isSignedBy(root, root), true);
  assert.equal(isSignedBy(leaf, leaf), false);
  const tampered = Buffer.from(leaf);
  tampered[tampered.length - 5] ^= 0x01;
  assert.equal(isSignedBy(tampered, root), false);
});

test('openssl reads the certificate and shows admission, policies and key usage', () => {
  const dir = tempDir();
  const file = writeFile(dir, 'leaf.pem', toPem(leaf));
  const r = openssl(['x509', '-in', file, '-noout', '-text']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Professional Information or basis for Admission/);
  assert.match(r.stdout, /registrationNumber: 1-HBA-Testkarte-1234/);
  assert.match(r.stdout, /1\.2\.276\.0\.76\.4\.30/);
  assert.match(r.stdout, /Policy: 1\.2\.276\.0\.76\.4\.72/);
  assert.match(r.stdout, /Non Repudiation/);
  assert.match(r.stdout, /OCSP - URI:http:\/\/127\.0\.0\.1:8440\/ocsp/);
  assert.match(r.stdout, /ASN1 OID: brainpoolP256r1/);
  const v = openssl(['verify', '-CAfile', writeFile(dir, 'root.pem', toPem(root)), file]);
  assert.equal(v.status, 0, v.all);
  assert.match(v.stdout, /OK/);
});

test('the admission of real gematik test cards decodes (HBA with authority, eGK without)', () => {
  const hba = parseCertificate(cardCertificate('HBA_80276883110000220885_gema5.xml', 'EF.C.HP.QES.E256'));
  assert.deepEqual(hba.admission, {
    admissionAuthority: 'C=DE, O=gematik Berlin',
    professions: [{ professionItems: ['Zahnärztin/Zahnarzt'], professionOids: ['1.2.276.0.76.4.31'], registrationNumber: '2-HBA-Testkarte-883110000220885' }],
  });
  assert.deepEqual(hba.policies.slice(0, 2), ['1.2.276.0.76.4.72', '0.4.0.194112.1.2']);
  assert.deepEqual(hba.keyUsage, ['nonRepudiation']);
  const egk = parseCertificate(cardCertificate('IMG_eGK_G21_TU_root6.xml', 'EF.C.CH.AUT.E256'));
  assert.equal(egk.admission?.admissionAuthority, undefined);
  assert.deepEqual(egk.admission?.professions[0].professionOids, ['1.2.276.0.76.4.49']);
  assert.deepEqual(egk.policies, ['1.2.276.0.76.4.163', '1.2.276.0.76.4.70']);
  // KVNR and IK of the insurer are the two OUs of the eGK subject
  assert.deepEqual(egk.subjectAttributes.filter((a) => a.type === 'OU').map((a) => a.value), ['109500969', 'X110540756']);
  // an RSA card certificate parses as well
  const rsa = parseCertificate(cardCertificate('HBA_80276883110000220885_gema5.xml', 'EF.C.HP.AUT.R2048'));
  assert.equal(rsa.publicKey.asymmetricKeyType, 'rsa');
});

test('our admission encoding is byte-identical to the real HBA structure for the same content', () => {
  const real = parseCertificate(cardCertificate('HBA_80276883110000220885_gema5.xml', 'EF.C.HP.QES.E256'));
  const value = real.extensions.find((e) => e.oid === OID.admission)?.value;
  assert.ok(value);
  const ours = encodeAdmission({
    admissionAuthority: [{ type: 'C', value: 'DE' }, { type: 'O', value: 'gematik Berlin' }],
    professionItems: ['Zahnärztin/Zahnarzt'],
    professionOids: ['1.2.276.0.76.4.31'],
    registrationNumber: '2-HBA-Testkarte-883110000220885',
  });
  assert.equal(ours.toString('hex'), value.toString('hex'));
  assert.deepEqual(decodeAdmission(ours), real.admission);
});

test('PEM helpers round-trip and reject text without PEM', () => {
  const pem = toPem(leaf) + toPem(root);
  assert.deepEqual(pemBlocks(pem), [leaf, root]);
  assert.deepEqual(pemToDer(pem), leaf);
  assert.throws(() => pemToDer('nothing here'), /no PEM block/);
});

test('serial numbers are normalized', () => {
  assert.equal(normalizeSerialHex('0x00AB:CD'), 'abcd');
  assert.equal(normalizeSerialHex('000'), '00');
  assert.equal(normalizeSerialHex('abc'), '0abc');
  assert.throws(() => normalizeSerialHex('xyz'), /not a hex serial/);
});
