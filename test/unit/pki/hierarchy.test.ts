import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { OID, parseCertificate, isSignedBy } from '../../../simulators/lib/x509';
import { loadOrCreatePki, ProfileError, PROFILE_NAMES, type Pki } from '../../../simulators/pki/hierarchy';
import { kvnrCheckDigit, makeKvnr } from '../../../simulators/pki/profiles';
import { openssl, tempDir, writeFile } from './helpers';

const dir = tempDir('pki-hierarchy-');
let pkiPromise: Promise<Pki> | undefined;
const getPki = () => (pkiPromise ??= loadOrCreatePki(dir));

test('the hierarchy is generated once and reloaded from the data dir', async () => {
  const pki = await getPki();
  assert.equal(pki.root.parsed.isCa, true);
  assert.equal(pki.root.parsed.namedCurve, 'brainpoolP256r1');
  assert.match(pki.root.parsed.subject, /O=ti-harness simulated TI/);
  assert.match(pki.root.parsed.subject, /CN=GEM\.RCA-SIM TEST-ONLY/);
  assert.ok(fs.existsSync(path.join(dir, 'hierarchy', 'root.key.pem')));
  assert.match(fs.readFileSync(path.join(dir, 'hierarchy', 'root.key.pem'), 'utf8'), /BEGIN PRIVATE KEY/);
  const t0 = Date.now();
  const again = await loadOrCreatePki(dir);
  assert.ok(Date.now() - t0 < 2000, 'reload must be fast');
  assert.deepEqual(again.rootCertificate, pki.rootCertificate);
  assert.deepEqual(again.cas['komp-ca'].certificate, pki.cas['komp-ca'].certificate);
  assert.equal(again.rootCertificatePem, pki.rootCertificatePem);
});

test('every issuing CA, OCSP signer and the TSL signer chain to the root', async () => {
  const pki = await getPki();
  for (const name of ['hba-qca', 'hba-ca', 'smcb-ca', 'egk-ca', 'komp-ca', 'tsl-ca'] as const) {
    const ca = pki.cas[name];
    assert.equal(ca.parsed.isCa, true, name);
    assert.equal(ca.parsed.pathLen, 0, name);
    assert.deepEqual(ca.parsed.keyUsage, ['keyCertSign', 'cRLSign'], name);
    assert.ok(isSignedBy(ca.certificate, pki.rootCertificate), name);
    assert.ok(isSignedBy(ca.ocspSigner.certificate, ca.certificate), `${name} ocsp signer`);
    assert.deepEqual(ca.ocspSigner.parsed.extKeyUsage, [OID.kpOcspSigning]);
  }
  assert.ok(isSignedBy(pki.tslSigner.certificate, pki.cas['tsl-ca'].certificate));
  assert.deepEqual(pki.tslSigner.parsed.extKeyUsage, [OID.kpTslSigning]);
  assert.deepEqual(pki.tslSigner.parsed.policies, ['1.2.276.0.76.4.176']);
});

test('C.HP.QES carries the HBA QES profile', async () => {
  const pki = await getPki();
  const issued = pki.issue({ profile: 'C.HP.QES', telematikId: '1-HBA-Ebert-01', subject: { givenName: 'Hanna', surname: 'Ebert' } });
  const p = parseCertificate(issued.certificate);
  assert.equal(issued.ca, 'hba-qca');
  assert.deepEqual(issued.issuerCertificate, pki.cas['hba-qca'].certificate);
  assert.deepEqual(p.keyUsage, ['nonRepudiation']);
  assert.deepEqual(p.policies, ['1.2.276.0.76.4.72', '0.4.0.194112.1.2', '1.2.276.0.76.4.145']);
  assert.ok(p.extensions.some((e) => e.oid === OID.qcStatements));
  assert.equal(p.admission?.professions[0].registrationNumber, '1-HBA-Ebert-01');
  assert.deepEqual(p.admission?.professions[0].professionOids, ['1.2.276.0.76.4.30']);
  assert.ok(p.subjectAttributes.some((a) => a.type === 'CN' && a.value === 'Hanna Ebert'));
  assert.deepEqual(p.ocspUrls, [pki.ocspUrl]);
  assert.equal(issued.serialNumber, p.serialNumber);
  assert.deepEqual(issued.chainPem, [pki.cas['hba-qca'].certificatePem, pki.rootCertificatePem]);
  // the private key belongs to the certificate
  const sig = crypto.sign('sha256', Buffer.from('x'), issued.privateKey);
  assert.ok(crypto.verify('sha256', Buffer.from('x'), p.publicKey, sig));
  assert.match(issued.privateKeyPem, /BEGIN PRIVATE KEY/);
});

test('SMC-B, eGK and Fachdienst profiles have their type OIDs, key usages and roles', async () => {
  const pki = await getPki();
  const expectations: Record<string, { ca: string; policy: string; ku: string[]; eku?: string[]; role?: string }> = {
    'C.HP.AUT': { ca: 'hba-ca', policy: '1.2.276.0.76.4.75', ku: ['digitalSignature', 'keyAgreement'], eku: [OID.kpClientAuth, OID.kpEmailProtection], role: '1.2.276.0.76.4.30' },
    'C.HCI.AUT': { ca: 'smcb-ca', policy: '1.2.276.0.76.4.77', ku: ['digitalSignature'], eku: [OID.kpClientAuth], role: '1.2.276.0.76.4.50' },
    'C.HCI.ENC': { ca: 'smcb-ca', policy: '1.2.276.0.76.4.76', ku: ['keyAgreement'], role: '1.2.276.0.76.4.50' },
    'C.HCI.OSIG': { ca: 'smcb-ca', policy: '1.2.276.0.76.4.78', ku: ['nonRepudiation'], role: '1.2.276.0.76.4.50' },
    'C.CH.AUT': { ca: 'egk-ca', policy: '1.2.276.0.76.4.70', ku: ['digitalSignature'], role: '1.2.276.0.76.4.49' },
    'C.CH.ENC': { ca: 'egk-ca', policy: '1.2.276.0.76.4.68', ku: ['keyAgreement'], role: '1.2.276.0.76.4.49' },
    'C.FD.SIG': { ca: 'komp-ca', policy: '1.2.276.0.76.4.203', ku: ['digitalSignature'], role: '1.2.276.0.76.4.259' },
    'C.FD.ENC': { ca: 'komp-ca', policy: '1.2.276.0.76.4.202', ku: ['keyAgreement'], role: '1.2.276.0.76.4.258' },
    'C.IDP.SIG': { ca: 'komp-ca', policy: '1.2.276.0.76.4.203', ku: ['digitalSignature'], role: '1.2.276.0.76.4.260' },
    'TLS-SERVER': { ca: 'komp-ca', policy: '1.2.276.0.76.4.169', ku: ['digitalSignature'], eku: [OID.kpServerAuth] },
  };
  for (const [profile, e] of Object.entries(expectations)) {
    const issued = pki.issue({ profile });
    const p = parseCertificate(issued.certificate);
    assert.equal(issued.ca, e.ca, profile);
    assert.ok(p.policies.includes(e.policy), `${profile}: ${p.policies.join(',')}`);
    assert.deepEqual(p.keyUsage, e.ku, profile);
    assert.deepEqual(p.extKeyUsage, e.eku ?? [], profile);
    assert.deepEqual(p.admission?.professions[0].professionOids, e.role ? [e.role] : undefined, profile);
    // HBA certificates name the HBA certificate policy, all others the gematik policy
    assert.ok(p.policies.includes(e.ca === 'hba-ca' ? '1.2.276.0.76.4.145' : '1.2.276.0.76.4.163'), profile);
  }
});

test('C.HCI.AUT carries the institution role and the Telematik-ID', async () => {
  const pki = await getPki();
  const issued = pki.issue({
    profile: 'C.HCI.AUT',
    telematikId: '3-SMC-B-Apotheke-am-Markt',
    professionOid: '1.2.276.0.76.4.54',
    professionItem: 'Öffentliche Apotheke',
    subject: { commonName: 'Apotheke am Markt', organization: '3-SMC-B-Apotheke-am-Markt NOT-VALID' },
  });
  const p = parseCertificate(issued.certificate);
  assert.deepEqual(p.admission?.professions[0], {
    professionItems: ['Öffentliche Apotheke'],
    professionOids: ['1.2.276.0.76.4.54'],
    registrationNumber: '3-SMC-B-Apotheke-am-Markt',
  });
  assert.ok(p.subjectAttributes.some((a) => a.type === 'CN' && a.value === 'Apotheke am Markt'));
});

test('C.CH.AUT puts IK and a valid KVNR into the subject', async () => {
  const pki = await getPki();
  const issued = pki.issue({ profile: 'C.CH.AUT', kvnr: 'X110540756', iknr: '109500969', subject: { givenName: 'Jonas', surname: 'Keller' } });
  const p = parseCertificate(issued.certificate);
  assert.deepEqual(p.subjectAttributes.filter((a) => a.type === 'OU').map((a) => a.value), ['109500969', 'X110540756']);
  assert.ok(p.subjectAttributes.some((a) => a.type === 'GN' && a.value === 'Jonas'));
  const generated = pki.issue({ profile: 'C.CH.AUT' }).kvnr as string;
  assert.match(generated, /^[A-Z]\d{9}$/);
  assert.equal(kvnrCheckDigit(generated[0], generated.slice(1, 9)), Number(generated[9]));
  // check digit of the real test card's KVNR
  assert.equal(kvnrCheckDigit('X', '11054075'), 6);
  assert.match(makeKvnr(), /^[A-Z]\d{9}$/);
  assert.throws(() => pki.issue({ profile: 'C.CH.AUT', kvnr: 'not-a-kvnr' }), ProfileError);
});

test('validity windows are honoured (expired certificates are possible)', async () => {
  const pki = await getPki();
  const issued = pki.issue({ profile: 'C.HCI.AUT', notBefore: '2020-01-01T00:00:00Z', notAfter: '2021-01-01T00:00:00Z' });
  const p = parseCertificate(issued.certificate);
  assert.equal(p.notBefore.toISOString(), '2020-01-01T00:00:00.000Z');
  assert.equal(p.notAfter.toISOString(), '2021-01-01T00:00:00.000Z');
  const short = parseCertificate(pki.issue({ profile: 'TLS-SERVER', validityDays: 2 }).certificate);
  const days = (short.notAfter.getTime() - short.notBefore.getTime()) / 86400_000;
  assert.equal(days, 2);
  assert.throws(() => pki.issue({ profile: 'TLS-SERVER', notBefore: '2022-01-01', notAfter: '2021-01-01' }), /notAfter must be after notBefore/);
  assert.throws(() => pki.issue({ profile: 'TLS-SERVER', notBefore: 'yesterday' }), /not a valid date/);
});

test('the PKI clock drives default validity', async () => {
  const fixed = new Date('2030-06-01T12:00:00Z');
  const pki = await loadOrCreatePki(dir, { clock: () => fixed });
  const p = parseCertificate(pki.issue({ profile: 'TLS-SERVER' }).certificate);
  assert.equal(p.notBefore.toISOString(), '2030-06-01T11:00:00.000Z');
});

test('TLS server certificates carry subjectAltName DNS and IP entries', async () => {
  const pki = await getPki();
  const p = parseCertificate(pki.issue({ profile: 'TLS-SERVER', dnsNames: ['fachdienst.local', 'localhost'], ipAddresses: ['127.0.0.1', '::1'] }).certificate);
  assert.deepEqual(p.subjectAltNames.dns, ['fachdienst.local', 'localhost']);
  assert.deepEqual(p.subjectAltNames.ip, ['127.0.0.1', '::1']);
  assert.ok(p.subjectAttributes.some((a) => a.type === 'CN' && a.value === 'fachdienst.local'));
  assert.throws(() => pki.issue({ profile: 'TLS-SERVER', ipAddresses: ['300.1.1.1'] }), /not an IP address/);
});

test('an existing public key can be certified (no private key returned)', async () => {
  const pki = await getPki();
  const kp = crypto.generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' });
  const issued = pki.issue({ profile: 'C.CH.AUT', publicKey: kp.publicKey });
  assert.equal(issued.privateKey, undefined);
  assert.equal(issued.privateKeyPem, undefined);
  const p = parseCertificate(issued.certificate);
  assert.deepEqual(p.publicKey.export({ format: 'der', type: 'spki' }), kp.publicKey.export({ format: 'der', type: 'spki' }));
});

test('unknown profiles and bad Telematik-IDs are rejected', async () => {
  const pki = await getPki();
  assert.throws(() => pki.issue({ profile: 'C.NOPE' }), (e: unknown) => e instanceof ProfileError && /unknown profile "C.NOPE"/.test(e.message));
  assert.throws(() => pki.issue({ profile: 'C.HP.QES', telematikId: 'ümlaut' }), /PrintableString/);
  assert.throws(() => pki.issue({ profile: 'C.HP.QES', status: 'bogus' as never }), /status must be/);
  assert.throws(() => pki.issue({ profile: 'C.HP.QES', status: 'revoked', revocationReason: 'sneezed' as never }), /unknown revocation reason/);
  assert.ok(PROFILE_NAMES.includes('C.HP.QES'));
});

test('revocation status is stored and survives a reload', async () => {
  const pki = await getPki();
  const a = pki.issue({ profile: 'C.HCI.AUT' });
  const b = pki.issue({ profile: 'C.HCI.AUT', status: 'revoked', revocationReason: 'cessationOfOperation', revocationTime: '2025-01-02T03:04:05Z' });
  assert.equal(pki.status(a.serialNumber)?.status, 'good');
  assert.equal(b.record.status, 'revoked');
  const when = new Date('2026-01-01T00:00:00Z');
  pki.revoke(a.serialNumber, 'keyCompromise', when);
  const reloaded = await loadOrCreatePki(dir);
  assert.deepEqual(
    { status: reloaded.status(a.serialNumber)?.status, time: reloaded.status(a.serialNumber)?.revocationTime, reason: reloaded.status(a.serialNumber)?.revocationReason },
    { status: 'revoked', time: when.toISOString(), reason: 1 },
  );
  assert.equal(reloaded.status(b.serialNumber)?.revocationTime, '2025-01-02T03:04:05.000Z');
  assert.equal(reloaded.status(b.serialNumber)?.revocationReason, 5);
  reloaded.reinstate(a.serialNumber);
  // the first instance sees the other instance's change through the shared log
  assert.equal(pki.status(a.serialNumber)?.status, 'good');
  assert.throws(() => pki.revoke('0badc0ffee'), /unknown certificate serial/);
});

test('openssl accepts the chains of issued certificates', async () => {
  const pki = await getPki();
  const tmp = tempDir();
  const rootFile = writeFile(tmp, 'root.pem', pki.rootCertificatePem);
  for (const profile of ['C.HP.QES', 'C.HCI.AUT', 'C.CH.AUT', 'C.FD.SIG', 'TLS-SERVER']) {
    const issued = pki.issue({ profile });
    const r = openssl(['verify', '-CAfile', rootFile, '-untrusted', writeFile(tmp, `${profile}-ca.pem`, issued.issuerPem), writeFile(tmp, `${profile}.pem`, issued.certificatePem)]);
    assert.equal(r.status, 0, `${profile}: ${r.all}`);
    assert.match(r.stdout, /: OK/);
  }
  // a certificate from another CA does not verify against the wrong intermediate
  const egk = pki.issue({ profile: 'C.CH.AUT' });
  const r = openssl(['verify', '-CAfile', rootFile, '-untrusted', writeFile(tmp, 'wrong-ca.pem', pki.cas['smcb-ca'].certificatePem), writeFile(tmp, 'egk.pem', egk.certificatePem)]);
  assert.notEqual(r.status, 0);
});

test('openssl x509 -text shows the TI extensions of the QES certificate', async () => {
  const pki = await getPki();
  const issued = pki.issue({ profile: 'C.HP.QES', telematikId: '1-HBA-Ebert-01' });
  const r = openssl(['x509', '-noout', '-text', '-in', writeFile(tempDir(), 'qes.pem', issued.certificatePem)]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Professional Information or basis for Admission/);
  assert.match(r.stdout, /registrationNumber: 1-HBA-Ebert-01/);
  assert.match(r.stdout, /Policy: 1\.2\.276\.0\.76\.4\.72/);
  assert.match(r.stdout, /qcStatements/);
  assert.match(r.stdout, /Non Repudiation/);
});

test('concurrent first starts (two processes) on one data dir share one hierarchy', async () => {
  const shared = tempDir('pki-race-');
  const script = `const h = require(${JSON.stringify(path.resolve(__dirname, '../../../simulators/pki/hierarchy'))});
    const pki = h.loadOrCreatePkiSync(process.argv[1]);
    process.stdout.write(require('node:crypto').createHash('sha256').update(pki.rootCertificate).digest('hex'));`;
  const run = () =>
    new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script, shared], { cwd: path.resolve(__dirname, '../../..') });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d));
      p.stderr.on('data', (d: Buffer) => (err += d));
      p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
    });
  const [a, b] = await Promise.all([run(), run()]);
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(a, b);
  const c = await loadOrCreatePki(shared);
  assert.equal(crypto.createHash('sha256').update(c.rootCertificate).digest('hex'), a);
  assert.equal(fs.readdirSync(shared).filter((f) => f.startsWith('.hierarchy-tmp')).length, 0);
});

test('an outdated hierarchy is moved aside together with its store and a new one is generated', async () => {
  const d = tempDir('pki-outdated-');
  const first = await loadOrCreatePki(d);
  first.issue({ profile: 'C.HCI.AUT' });
  const manifest = path.join(d, 'hierarchy', 'manifest.json');
  fs.writeFileSync(manifest, JSON.stringify({ version: 0 }));
  const second = await loadOrCreatePki(d);
  assert.notDeepEqual(second.rootCertificate, first.rootCertificate);
  const entries = fs.readdirSync(d);
  assert.ok(entries.some((e) => e.startsWith('hierarchy.old-')), entries.join(','));
  assert.ok(entries.some((e) => e.startsWith('certificates.jsonl.old-')), entries.join(','));
  // the new store holds only the new infrastructure certificates
  assert.ok(second.store.list().every((r) => r.profile !== 'C.HCI.AUT'));
  // CA certificates are valid from 2020 on, so a clock set to the past still finds them valid
  assert.ok(second.cas['smcb-ca'].parsed.notBefore.getTime() <= Date.parse('2020-01-01T00:00:00Z'));
});
