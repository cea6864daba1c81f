/**
 * Cards built from personas, driven through APDUs only: the applications answer SELECT, the certificate files
 * hold the PKI-issued certificates, the keys sign with PIN and MSE as on the real G2.1 cards, the negative
 * personas behave as they claim.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import * as path from 'node:path';
import { buildPersonaCard, buildPersonaCardSync, listPersonas, loadPersona, personaCatalog, personaIdentity, type PersonaCardOptions } from '../../../cards';
import { loadEnvironment } from '../../../simulators/lib/config';
import { AID, ATR } from '../../../cards/objsys';
import { QES_SIGNATURES_PER_VERIFY } from '../../../cards/objsys/hba';
import { isPruefidentitaetKvnr, type EgkPersona, type HbaPersona, type Persona } from '../../../cards/persona';
import type { CardOs } from '../../../cards/os/card';
import { bp256VerifyDigest } from '../../../simulators/lib/bp256';
import { parseCertificate, type ParsedCertificate } from '../../../simulators/lib/x509';
import { internalAuthenticate, mseSet, psoCds, readFid, readSfi, selectAid, swHex, testEnvironment, tx, verifyPin } from './helpers';

let opts: PersonaCardOptions;
let env: ReturnType<typeof testEnvironment>;

before(() => {
  env = testEnvironment('cards-objsys-');
  opts = { pki: env.pki, cacheDir: env.cacheDir };
});
after(() => fs.rmSync(env.root, { recursive: true, force: true }));

function card(name: string): CardOs {
  const c = buildPersonaCardSync(name, opts);
  c.powerOn();
  return c;
}

/** Where each certificate lives: application, SFI, FID, and the signing key (reference for MSE, PIN). */
interface CertSlot {
  profile: string;
  aid: string;
  sfi: number;
  fid: number;
}
const SLOTS: Record<Persona['type'], CertSlot[]> = {
  HBA: [
    { profile: 'C.HP.QES', aid: AID.QES, sfi: 0x06, fid: 0xc006 },
    { profile: 'C.HP.AUT', aid: AID.ESIGN, sfi: 0x06, fid: 0xc506 },
    { profile: 'C.HP.ENC', aid: AID.ESIGN, sfi: 0x05, fid: 0xc205 },
  ],
  'SMC-B': [
    { profile: 'C.HCI.AUT', aid: AID.ESIGN, sfi: 0x06, fid: 0xc506 },
    { profile: 'C.HCI.ENC', aid: AID.ESIGN, sfi: 0x05, fid: 0xc205 },
    { profile: 'C.HCI.OSIG', aid: AID.ESIGN, sfi: 0x07, fid: 0xc007 },
  ],
  eGK: [
    { profile: 'C.CH.AUT', aid: AID.ESIGN, sfi: 0x04, fid: 0xc504 },
    { profile: 'C.CH.ENC', aid: AID.ESIGN, sfi: 0x05, fid: 0xc205 },
  ],
};
const APPS: Record<Persona['type'], string[]> = {
  HBA: [AID.MF_HBA, AID.HPA, AID.QES, AID.ESIGN],
  'SMC-B': [AID.MF_SMCB, AID.ESIGN],
  eGK: [AID.MF_EGK, AID.HCA, AID.ESIGN],
};

function readCertificate(c: CardOs, slot: CertSlot): ParsedCertificate {
  assert.equal(swHex(selectAid(c, slot.aid).sw), '9000');
  const r = readSfi(c, slot.sfi);
  assert.equal(swHex(r.sw), '9000', `READ BINARY SFI ${slot.sfi} of ${slot.profile}`);
  return parseCertificate(r.data);
}

describe('every persona card', () => {
  it('has a G2.1 ATR of its type, answers SELECT of its applications and holds its PKI certificates', () => {
    for (const p of listPersonas()) {
      const c = card(p.name);
      assert.deepEqual(c.atr, ATR[p.type], p.name);
      for (const aid of APPS[p.type]) assert.equal(swHex(selectAid(c, aid).sw), '9000', `${p.name}: SELECT ${aid}`);
      const id = personaIdentity(p.name, opts);
      for (const slot of SLOTS[p.type]) {
        const cert = readCertificate(c, slot);
        assert.deepEqual(cert.der, id.certificates[slot.profile].certificate, `${p.name}: ${slot.profile}`);
        assert.ok(env.pki.issuerOf(cert), `${p.name}: ${slot.profile} issued by the PKI`);
        // the same file by FID, in 256-byte steps
        const byFid = readFid(c, slot.fid);
        assert.deepEqual(byFid.data, cert.der, `${p.name}: ${slot.profile} by FID`);
      }
      // EF.GDO: the ICCSN
      assert.equal(swHex(selectAid(c, APPS[p.type][0]).sw), '9000');
      assert.equal(readSfi(c, 0x02).data.toString('hex'), `5a0a${p.iccsn}`);
      // EF.DIR: one record per application, the MF first
      const rec1 = tx(c, '00B201F400'); // READ RECORD 1 of SFI 1E (EF.DIR)
      assert.equal(swHex(rec1.sw), '9000');
      assert.ok(rec1.data.toString('hex').toUpperCase().endsWith(APPS[p.type][0]), rec1.data.toString('hex'));
    }
  });

  it('ATRs are well formed: TS 3B, T=1 and T=15, no historical bytes, TCK makes the XOR zero', () => {
    for (const atr of Object.values(ATR)) {
      assert.equal(atr[0], 0x3b);
      assert.equal(atr[1] & 0x0f, 0, 'no historical bytes');
      assert.equal(atr.subarray(1).reduce((x, b) => x ^ b, 0), 0);
    }
  });
});

describe('signatures', () => {
  const hash = crypto.createHash('sha256').update('E-Rezept-Bundle').digest();

  it('HBA QES: VERIFY PIN.QES (81), MSE SET DST 86, PSO CDS verifies with C.HP.QES; without the PIN 6982', () => {
    const p = loadPersona('Dr. Hanna Ebert') as HbaPersona;
    const c = card(p.name);
    const cert = readCertificate(c, SLOTS.HBA[0]);
    assert.equal(swHex(mseSet(c, 'DST', 0x86)), '9000');
    assert.equal(swHex(psoCds(c, hash).sw), '6982');
    assert.equal(swHex(verifyPin(c, 0x81, '000000')), '63C2');
    assert.equal(swHex(verifyPin(c, 0x81, p.pins['PIN.QES'].pin)), '9000');
    const sig = psoCds(c, hash);
    assert.equal(swHex(sig.sw), '9000');
    assert.equal(sig.data.length, 64);
    assert.ok(bp256VerifyDigest(hash, sig.data, cert.publicKey, 'raw'));
    assert.ok(!bp256VerifyDigest(crypto.createHash('sha256').update('other').digest(), sig.data, cert.publicKey, 'raw'));
    // PIN.CH does not unlock the QES key
    const c2 = card(p.name);
    selectAid(c2, AID.QES);
    assert.equal(swHex(verifyPin(c2, 0x01, p.pins['PIN.CH'].pin)), '9000');
    mseSet(c2, 'DST', 0x86);
    assert.equal(swHex(psoCds(c2, hash).sw), '6982');
  });

  it(`HBA QES: one VERIFY allows ${QES_SIGNATURES_PER_VERIFY} signatures (SSEC of the image), then the PIN is needed again`, () => {
    const p = loadPersona('Dr. Lukas Brandt') as HbaPersona;
    const c = card(p.name);
    selectAid(c, AID.QES);
    verifyPin(c, 0x81, p.pins['PIN.QES'].pin);
    mseSet(c, 'DST', 0x86);
    for (let i = 0; i < QES_SIGNATURES_PER_VERIFY; i++) assert.equal(psoCds(c, hash).sw, 0x9000, `signature ${i + 1}`);
    assert.equal(swHex(psoCds(c, hash).sw), '6982');
  });

  it('HBA AUT, SMC-B AUT and OSIG: PIN.CH / PIN.SMC, PSO CDS verifies with the certificate', () => {
    const cases: Array<{ name: string; pin: string; slot: CertSlot; keyRef: number }> = [
      { name: 'Dr. Hanna Ebert', pin: 'PIN.CH', slot: SLOTS.HBA[1], keyRef: 0x86 },
      { name: 'Praxis Dr. Hanna Ebert', pin: 'PIN.SMC', slot: SLOTS['SMC-B'][0], keyRef: 0x86 },
      { name: 'Apotheke am Markt', pin: 'PIN.SMC', slot: SLOTS['SMC-B'][2], keyRef: 0x87 },
    ];
    for (const k of cases) {
      const p = loadPersona(k.name);
      const c = card(k.name);
      const cert = readCertificate(c, k.slot);
      assert.equal(swHex(mseSet(c, 'DST', k.keyRef)), '9000');
      assert.equal(swHex(psoCds(c, hash).sw), '6982', `${k.name} without PIN`);
      assert.equal(swHex(verifyPin(c, 0x01, p.pins[k.pin].pin)), '9000');
      const sig = psoCds(c, hash);
      assert.equal(swHex(sig.sw), '9000', k.name);
      assert.ok(bp256VerifyDigest(hash, sig.data, cert.publicKey, 'raw'), `${k.name} ${k.slot.profile}`);
    }
  });

  it('eGK AUT: signs after MRPIN.home (02); PIN.CH (01) alone needs a card-to-card role and is refused', () => {
    const p = loadPersona('Jonas Keller') as EgkPersona;
    const c = card(p.name);
    const cert = readCertificate(c, SLOTS.eGK[0]);
    assert.equal(swHex(verifyPin(c, 0x01, p.pins['PIN.CH'].pin)), '9000');
    assert.equal(swHex(mseSet(c, 'DST', 0x84)), '9000');
    assert.equal(swHex(psoCds(c, hash).sw), '6982');
    assert.equal(swHex(verifyPin(c, 0x02, p.pins['PIN.CH'].pin)), '9000');
    const sig = psoCds(c, hash);
    assert.equal(swHex(sig.sw), '9000');
    assert.ok(bp256VerifyDigest(hash, sig.data, cert.publicKey, 'raw'));
  });

  it('INTERNAL AUTHENTICATE: the AUT keys (signECDSA) refuse it as on the real cards; the role-authentication keys answer it', () => {
    const token = crypto.randomBytes(16);
    // HBA: PrK.HP.AUT.E256 allows only PSO CDS
    const p = loadPersona('Dr. Hanna Ebert') as HbaPersona;
    const c = card(p.name);
    selectAid(c, AID.ESIGN);
    verifyPin(c, 0x01, p.pins['PIN.CH'].pin);
    assert.equal(swHex(mseSet(c, 'AT', 0x86)), '9000');
    assert.equal(swHex(internalAuthenticate(c, token).sw), '6982');
    // … and PrK.HPC.AUTR_CVC.E256 (MF, key 06, elcRoleAuthentication, PWD(PIN.CH)) answers
    selectAid(c, AID.MF_HBA);
    assert.equal(swHex(mseSet(c, 'AT', 0x06)), '9000');
    const r = internalAuthenticate(c, token);
    assert.equal(swHex(r.sw), '9000');
    const id = personaIdentity(p.name, opts);
    const pub = crypto.createPublicKey(id.keys['PrK.HPC.AUTR_CVC.E256']);
    assert.ok(bp256VerifyDigest(Buffer.concat([token, Buffer.from([0x00])]), r.data, pub, 'raw'));
    // SMC-B: needs PIN.SMC
    const s = card('Praxis Dr. Hanna Ebert');
    assert.equal(swHex(mseSet(s, 'AT', 0x06)), '9000');
    assert.equal(swHex(internalAuthenticate(s, token).sw), '6982');
    verifyPin(s, 0x01, loadPersona('Praxis Dr. Hanna Ebert').pins['PIN.SMC'].pin);
    const sr = internalAuthenticate(s, token);
    assert.equal(swHex(sr.sw), '9000');
    const spub = crypto.createPublicKey(personaIdentity('Praxis Dr. Hanna Ebert', opts).keys['PrK.SMC.AUTR_CVC.E256']);
    assert.ok(bp256VerifyDigest(Buffer.concat([token, Buffer.from([0x00])]), sr.data, spub, 'raw'));
    // eGK: PrK.eGK.AUT_CVC.E256 (key 09) always
    const e = card('Jonas Keller');
    assert.equal(swHex(mseSet(e, 'AT', 0x09)), '9000');
    assert.equal(swHex(internalAuthenticate(e, token).sw), '9000');
  });
});

describe('negative personas on the card', () => {
  it('PIN blocked: VERIFY answers 6983 even with the right PIN; the key stays locked', () => {
    const hba = loadPersona('Dr. Eva Sperling') as HbaPersona;
    const c = card(hba.name);
    selectAid(c, AID.QES);
    assert.equal(swHex(verifyPin(c, 0x81, hba.pins['PIN.QES'].pin)), '6983');
    assert.equal(swHex(tx(c, '80200081').sw), '63C0');
    mseSet(c, 'DST', 0x86);
    assert.equal(swHex(psoCds(c, crypto.randomBytes(32)).sw), '6982');
    // PIN.CH of the same card is not blocked
    assert.equal(swHex(verifyPin(c, 0x01, hba.pins['PIN.CH'].pin)), '9000');
    const egk = loadPersona('Lena Sperber') as EgkPersona;
    const e = card(egk.name);
    assert.equal(swHex(verifyPin(e, 0x01, egk.pins['PIN.CH'].pin)), '6983');
    assert.equal(swHex(verifyPin(e, 0x02, egk.pins['PIN.CH'].pin)), '6983', 'MRPIN.home shares the blocked PIN.CH');
  });

  it('expired, revoked, no Telematik-ID, wrong profession: read from the card as the personas claim', () => {
    const cert = (name: string) => readCertificate(card(name), SLOTS.HBA[0]);
    assert.ok(cert('Dr. Tobias Gerber').notAfter.getTime() < Date.now());
    assert.equal(env.pki.status(cert('Dr. Sabine Roth').serialNumber)?.status, 'revoked');
    assert.equal(cert('Dr. Peter Lorenz').admission?.professions[0].registrationNumber, undefined);
    assert.deepEqual(cert('Dr. Paul Vogt').admission?.professions[0].professionOids, ['1.2.276.0.76.4.178']);
    assert.equal(env.pki.status(readCertificate(card('Praxis am Bahnhof'), SLOTS['SMC-B'][0]).serialNumber)?.status, 'revoked');
  });
});

describe('eGK data', () => {
  function vsd(name: string): { pd: string; vd: string; status: Buffer } {
    const c = card(name);
    assert.equal(swHex(selectAid(c, AID.HCA).sw), '9000');
    const pd = readSfi(c, 0x01).data;
    const vd = readSfi(c, 0x02).data;
    const status = readSfi(c, 0x0c).data;
    const pdLen = pd.readUInt16BE(0);
    const [s, e] = [vd.readUInt16BE(0), vd.readUInt16BE(2)];
    return {
      pd: zlib.gunzipSync(pd.subarray(2, 2 + pdLen)).toString('latin1'),
      vd: zlib.gunzipSync(vd.subarray(s, e + 1)).toString('latin1'),
      status,
    };
  }

  it('DF.HCA holds the persona’s VSD (EF.PD, EF.VD, EF.StatusVD) readable without PIN; EF.GVD needs MRPIN.home', () => {
    const p = loadPersona('Jonas Keller') as EgkPersona;
    const d = vsd(p.name);
    assert.match(d.pd, /<Versicherten_ID>K204617388<\/Versicherten_ID>/);
    assert.match(d.pd, /<Geburtsdatum>19870314<\/Geburtsdatum><Vorname>Jonas<\/Vorname><Nachname>Keller<\/Nachname>/);
    assert.match(d.vd, /<Kostentraegerkennung>109500969<\/Kostentraegerkennung>/);
    assert.equal(d.status.length, 25);
    assert.equal(d.status.subarray(0, 1).toString(), '0');
    const c = card(p.name);
    selectAid(c, AID.HCA);
    assert.equal(swHex(readSfi(c, 0x03).sw), '6982');
    verifyPin(c, 0x02, p.pins['PIN.CH'].pin);
    assert.equal(swHex(readSfi(c, 0x03).sw), '9000');
  });

  it('Prüfkarte: the KVNR on the card (EF.PD and C.CH.AUT) is a Prüfidentität, and only on that card', () => {
    for (const p of listPersonas().filter((x): x is EgkPersona => x.type === 'eGK')) {
      const kvnr = /<Versicherten_ID>([A-Z]\d{9})<\/Versicherten_ID>/.exec(vsd(p.name).pd)?.[1] as string;
      const certOus = readCertificate(card(p.name), SLOTS.eGK[0]).subjectAttributes.filter((a) => a.type === 'OU').map((a) => a.value);
      assert.ok(certOus.includes(kvnr), p.name);
      assert.equal(isPruefidentitaetKvnr(kvnr), p.insurance.pruefkarte, `${p.name} ${kvnr}`);
    }
  });
});

describe('persona catalog (for the cards service)', () => {
  it('lists every persona, describes it and creates independent fresh cards', () => {
    const catalog = personaCatalog(opts);
    assert.equal(catalog.names().length, listPersonas().length);
    assert.ok(catalog.names().includes('Apotheke am Markt'));
    assert.equal(catalog.describe('Dr. Hanna Ebert'), 'HBA · Dr. Hanna Ebert · Ärztin (Allgemeinmedizin), verordnet E-Rezepte');
    const a = catalog.create('Jonas Keller');
    const b = catalog.create('Jonas Keller');
    a.powerOn();
    b.powerOn();
    for (let i = 0; i < 3; i++) verifyPin(a, 0x01, '000000');
    assert.equal(swHex(verifyPin(a, 0x01, loadPersona('Jonas Keller').pins['PIN.CH'].pin)), '6983');
    assert.equal(swHex(verifyPin(b, 0x01, loadPersona('Jonas Keller').pins['PIN.CH'].pin)), '9000', 'the second card has its own retry counter');
    assert.throws(() => catalog.create('Niemand'), /unknown persona "Niemand"/);
  });
});

describe('buildPersonaCard with a PKI folder', () => {
  it('loads the PKI from pkiDir, issues into cacheDir and puts the environment’s OCSP URL into the certificates', async () => {
    const c = await buildPersonaCard('Claudia Neumann', { pkiDir: env.pkiDir, cacheDir: path.join(env.root, 'cards-from-dir') });
    assert.equal(c.isPowered, false);
    c.powerOn();
    const cert = readCertificate(c, SLOTS.eGK[0]);
    assert.deepEqual(cert.ocspUrls, [`${loadEnvironment().services.pki.url}/ocsp`]);
    assert.ok(env.pki.issuerOf(cert), 'issued by the PKI in pkiDir');
  });
});
