/**
 * Card identities: certificates issued by the simulated TI-PKI with the persona's identity, cached and reused,
 * re-issued when the PKI root, the persona or the certificate status no longer fit, and the negative variants
 * (expired, revoked, no Telematik-ID, wrong profession OID) as the personas claim.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPersona } from '../../../cards';
import { CARD_KEYS, CARD_PROFILES, loadOrIssueIdentity, personaCacheDir, type CardIdentity } from '../../../cards/identity';
import type { EgkPersona, HbaPersona, Persona, SmcbPersona } from '../../../cards/persona';
import { parseOcspResponse } from '../../../simulators/lib/ocsp';
import { loadOrCreatePkiSync, type Pki } from '../../../simulators/pki/hierarchy';
import { createOcspResponder } from '../../../simulators/pki/ocsp-responder';
import { buildOcspRequest } from '../../../simulators/lib/ocsp';
import { openssl } from '../pki/helpers';
import { testEnvironment } from './helpers';

/** Certificate type OIDs per profile (gemSpec_OID Tab_PKI_405), as the real test cards carry them. */
const CERT_TYPE: Record<string, string> = {
  'C.HP.QES': '1.2.276.0.76.4.72',
  'C.HP.AUT': '1.2.276.0.76.4.75',
  'C.HP.ENC': '1.2.276.0.76.4.74',
  'C.HCI.AUT': '1.2.276.0.76.4.77',
  'C.HCI.ENC': '1.2.276.0.76.4.76',
  'C.HCI.OSIG': '1.2.276.0.76.4.78',
  'C.CH.AUT': '1.2.276.0.76.4.70',
  'C.CH.AUTN': '1.2.276.0.76.4.71',
  'C.CH.ENC': '1.2.276.0.76.4.68',
};

let env: ReturnType<typeof testEnvironment>;
const identity = (p: Persona, pki: Pki = env.pki, cacheDir = env.cacheDir): CardIdentity => loadOrIssueIdentity(p, { pki, cacheDir });

before(() => {
  env = testEnvironment('cards-identity-');
});
after(() => fs.rmSync(env.root, { recursive: true, force: true }));

function ocspStatus(pki: Pki, cert: Buffer, issuer: Buffer): string {
  const respond = createOcspResponder(pki);
  const der = respond(buildOcspRequest(cert, issuer));
  return parseOcspResponse(der).responses[0].certStatus;
}

describe('issuing', () => {
  it('HBA: C.HP.QES/AUT/ENC with the persona name, Telematik-ID, profession and certificate type; chains verify with openssl', () => {
    const p = loadPersona('Dr. Hanna Ebert') as HbaPersona;
    const id = identity(p);
    assert.deepEqual(Object.keys(id.certificates).sort(), [...CARD_PROFILES.HBA].sort());
    for (const profile of CARD_PROFILES.HBA) {
      const c = id.certificates[profile];
      assert.ok(c.parsed.policies.includes(CERT_TYPE[profile]), `${profile} policies ${c.parsed.policies.join(',')}`);
      const prof = c.parsed.admission?.professions[0];
      assert.equal(prof?.registrationNumber, '1-HBA-Testkarte-883119910000001');
      assert.deepEqual(prof?.professionOids, ['1.2.276.0.76.4.30']);
      assert.ok(c.parsed.subjectAttributes.some((a) => a.type === 'SN' && a.value === 'Ebert'));
      assert.ok(c.parsed.subjectAttributes.some((a) => a.type === 'serialNumber' && a.value === `00.${p.iccsn}`));
      assert.equal(c.parsed.namedCurve, 'brainpoolP256r1');
      // the cached private key belongs to the certificate
      const sig = crypto.sign('sha256', Buffer.from('x'), c.privateKey);
      assert.ok(crypto.verify('sha256', Buffer.from('x'), c.parsed.publicKey, sig));
      const dir = fs.mkdtempSync(path.join(env.root, 'openssl-'));
      fs.writeFileSync(path.join(dir, 'root.pem'), env.pki.rootCertificatePem);
      fs.writeFileSync(path.join(dir, 'ca.pem'), env.pki.issuerOf(c.parsed)!.certificatePem);
      fs.writeFileSync(path.join(dir, 'leaf.pem'), c.certificatePem);
      const v = openssl(['verify', '-CAfile', path.join(dir, 'root.pem'), '-untrusted', path.join(dir, 'ca.pem'), path.join(dir, 'leaf.pem')]);
      assert.match(v.all, /leaf\.pem: OK/, v.all);
    }
    assert.ok(id.certificates['C.HP.QES'].parsed.keyUsage.includes('nonRepudiation'));
  });

  it('SMC-B: C.HCI.AUT/ENC/OSIG with institution OID, Telematik-ID and the institution as CN', () => {
    const p = loadPersona('Apotheke am Markt') as SmcbPersona;
    const id = identity(p);
    for (const profile of CARD_PROFILES['SMC-B']) {
      const c = id.certificates[profile];
      assert.ok(c.parsed.policies.includes(CERT_TYPE[profile]), profile);
      assert.equal(c.parsed.admission?.professions[0].registrationNumber, p.telematikId);
      assert.deepEqual(c.parsed.admission?.professions[0].professionOids, ['1.2.276.0.76.4.54']);
      assert.ok(c.parsed.subjectAttributes.some((a) => a.type === 'CN' && a.value === 'Apotheke am Markt'));
    }
  });

  it('eGK: C.CH.AUT/ENC carry KVNR and IK as OUs, C.CH.AUTN is pseudonymous; role Versicherte/-r', () => {
    const p = loadPersona('Jonas Keller') as EgkPersona;
    const id = identity(p);
    for (const profile of CARD_PROFILES.eGK) {
      const c = id.certificates[profile];
      const ous = c.parsed.subjectAttributes.filter((a) => a.type === 'OU').map((a) => a.value);
      assert.ok(c.parsed.policies.includes(CERT_TYPE[profile]), profile);
      assert.deepEqual(c.parsed.admission?.professions[0].professionOids, ['1.2.276.0.76.4.49']);
      assert.ok(ous.includes('109500969'), `${profile}: ${ous.join(',')}`);
      if (profile === 'C.CH.AUTN') assert.ok(!ous.includes('K204617388') && !c.parsed.subject.includes('Keller'), c.parsed.subject);
      else assert.ok(ous.includes('K204617388'), `${profile}: ${ous.join(',')}`);
    }
  });
});

describe('cache', () => {
  it('stores certificates (DER) and keys (PKCS#8) and reuses them on the next load', () => {
    const p = loadPersona('Praxis Dr. Hanna Ebert');
    const first = identity(p);
    assert.equal(first.issuedBecause, 'no cache');
    const dir = personaCacheDir(env.cacheDir, p);
    assert.equal(dir, path.join(env.cacheDir, 'smcb', 'praxis-dr-hanna-ebert'));
    for (const profile of CARD_PROFILES['SMC-B']) {
      assert.deepEqual(fs.readFileSync(path.join(dir, `${profile}.cert.der`)), first.certificates[profile].certificate);
      crypto.createPrivateKey({ key: fs.readFileSync(path.join(dir, `${profile}.key.pk8.der`)), format: 'der', type: 'pkcs8' });
    }
    for (const name of CARD_KEYS['SMC-B']) assert.ok(fs.existsSync(path.join(dir, `${name}.pk8.der`)));
    const second = identity(p);
    assert.equal(second.fromCache, true);
    assert.equal(second.certificates['C.HCI.AUT'].serialNumber, first.certificates['C.HCI.AUT'].serialNumber);
  });

  it('re-issues when the PKI was regenerated (other root)', () => {
    const p = loadPersona('Klinikum am See');
    const before = identity(p);
    const otherPki = loadOrCreatePkiSync(path.join(env.root, 'pki-regenerated'));
    const after = identity(p, otherPki);
    assert.equal(after.fromCache, false);
    assert.equal(after.issuedBecause, 'the PKI root changed');
    assert.notEqual(after.certificates['C.HCI.AUT'].serialNumber, before.certificates['C.HCI.AUT'].serialNumber);
    assert.ok(otherPki.issuerOf(after.certificates['C.HCI.AUT'].parsed), 'issued by the new PKI');
    // and back: the old PKI does not know the new certificates, so it re-issues again
    assert.equal(identity(p).fromCache, false);
  });

  it('re-issues when the persona identity changed', () => {
    const p = loadPersona('Löwen-Apotheke') as SmcbPersona;
    const before = identity(p);
    const changed: SmcbPersona = { ...p, telematikId: '3-SMC-B-Testkarte-883119920000099' };
    const after = identity(changed);
    assert.equal(after.fromCache, false);
    assert.equal(after.issuedBecause, 'the persona changed');
    assert.equal(after.certificates['C.HCI.AUT'].parsed.admission?.professions[0].registrationNumber, '3-SMC-B-Testkarte-883119920000099');
    assert.notEqual(after.certificates['C.HCI.AUT'].serialNumber, before.certificates['C.HCI.AUT'].serialNumber);
  });

  it('re-issues a good persona whose certificate was revoked in the PKI meanwhile', () => {
    const p = loadPersona('Mehmet Yilmaz');
    const before = identity(p);
    env.pki.revoke(before.certificates['C.CH.AUT'].serialNumber, 'superseded');
    const after = identity(p);
    assert.equal(after.fromCache, false);
    assert.equal(after.issuedBecause, 'C.CH.AUT was revoked');
    assert.equal(env.pki.status(after.certificates['C.CH.AUT'].serialNumber)?.status, 'good');
  });

  it('re-issues when a cached file is damaged', () => {
    const p = loadPersona('Anna Richter');
    identity(p);
    fs.writeFileSync(path.join(personaCacheDir(env.cacheDir, p), 'C.CH.AUT.key.pk8.der'), Buffer.from('broken'));
    const again = identity(p);
    assert.equal(again.fromCache, false);
    assert.match(again.issuedBecause ?? '', /^C\.CH\.AUT unreadable/);
  });
});

describe('negative personas', () => {
  it('expired: every certificate has notAfter in the past, also when loaded from the cache', () => {
    const p = loadPersona('Dr. Tobias Gerber');
    for (const id of [identity(p), identity(p)]) {
      for (const c of Object.values(id.certificates)) assert.ok(c.parsed.notAfter.getTime() < Date.now(), `${c.profile} ${c.parsed.notAfter.toISOString()}`);
    }
  });

  it('revoked: the PKI status and its OCSP responder say revoked (keyCompromise)', () => {
    const p = loadPersona('Dr. Sabine Roth');
    const id = identity(p);
    for (const c of Object.values(id.certificates)) {
      const rec = env.pki.status(c.serialNumber);
      assert.equal(rec?.status, 'revoked', c.profile);
      assert.equal(rec?.revocationReason, 1);
      assert.equal(ocspStatus(env.pki, c.certificate, c.issuerCertificate), 'revoked');
    }
    // reinstated by someone: the next load revokes again, the persona stays what it claims
    const qes = id.certificates['C.HP.QES'].serialNumber;
    env.pki.reinstate(qes);
    identity(p);
    assert.equal(env.pki.status(qes)?.status, 'revoked');
  });

  it('good personas are good in OCSP', () => {
    const id = identity(loadPersona('Dr. Lukas Brandt'));
    for (const c of Object.values(id.certificates)) assert.equal(ocspStatus(env.pki, c.certificate, c.issuerCertificate), 'good');
  });

  it('no Telematik-ID: the admission has the profession but no registrationNumber; OCSP knows the certificates', () => {
    const id = identity(loadPersona('Dr. Peter Lorenz'));
    for (const c of Object.values(id.certificates)) {
      const prof = c.parsed.admission?.professions[0];
      assert.deepEqual(prof?.professionOids, ['1.2.276.0.76.4.30'], c.profile);
      assert.equal(prof?.registrationNumber, undefined, c.profile);
      assert.ok(c.parsed.policies.includes(CERT_TYPE[c.profile]), c.profile);
      assert.equal(ocspStatus(env.pki, c.certificate, c.issuerCertificate), 'good');
    }
    assert.deepEqual(id.certificates['C.HP.QES'].parsed.keyUsage, ['nonRepudiation']);
  });

  it('wrong profession OID: the certificates carry Notfallsanitäter/-in instead of Arzt', () => {
    const id = identity(loadPersona('Dr. Paul Vogt'));
    for (const c of Object.values(id.certificates)) {
      assert.deepEqual(c.parsed.admission?.professions[0].professionOids, ['1.2.276.0.76.4.178'], c.profile);
      assert.deepEqual(c.parsed.admission?.professions[0].professionItems, ['Notfallsanitäter/-in']);
      assert.equal(c.parsed.admission?.professions[0].registrationNumber, '1-HBA-Testkarte-883119910000008');
    }
  });

  it('Prüfkarte: the certificates carry the Prüfidentität as KVNR', () => {
    const id = identity(loadPersona('Erika Mustermann'));
    const ous = id.certificates['C.CH.AUT'].parsed.subjectAttributes.filter((a) => a.type === 'OU').map((a) => a.value);
    assert.ok(ous.includes('X000000428'));
  });
});
