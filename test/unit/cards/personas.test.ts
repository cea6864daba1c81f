/**
 * Personas: every YAML file loads and validates, the required cards exist, identifiers are valid and unique,
 * the Prüfkarte follows the Fachdienst's rule, and broken files give errors that name file, field and problem.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { listPersonas, loadPersona } from '../../../cards';
import {
  CARD_PINS,
  isPruefidentitaetKvnr,
  isValidIccsn,
  isValidIknr,
  isValidKvnr,
  loadAllPersonas,
  PersonaError,
  type EgkPersona,
  type HbaPersona,
  type Persona,
  type SmcbPersona,
} from '../../../cards/persona';
import { tempDir as makeTempDir } from './helpers';

const tempDirs: string[] = [];
const tempDir = (prefix: string) => {
  const d = makeTempDir(prefix);
  tempDirs.push(d);
  return d;
};
after(() => tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const personas = listPersonas();
const hba = personas.filter((p): p is HbaPersona => p.type === 'HBA');
const smcb = personas.filter((p): p is SmcbPersona => p.type === 'SMC-B');
const egk = personas.filter((p): p is EgkPersona => p.type === 'eGK');
const good = (p: Persona) => !p.negative.certificates && !p.negative.noTelematikId && !p.negative.certificateProfessionOid && p.negative.blockedPins.length === 0;

describe('persona files', () => {
  it('all load and validate, with unique names, ICCSNs, KVNRs and Telematik-IDs', () => {
    assert.ok(personas.length >= 25, `only ${personas.length} personas`);
    const unique = (xs: string[]) => new Set(xs).size === xs.length;
    assert.ok(unique(personas.map((p) => p.name.toLowerCase())));
    assert.ok(unique(personas.map((p) => p.iccsn)));
    assert.ok(unique(egk.map((p) => p.insurance.kvnr)));
    for (const p of personas) {
      assert.ok(isValidIccsn(p.iccsn), `${p.id}: ICCSN ${p.iccsn}`);
      for (const name of CARD_PINS[p.type]) assert.ok(p.pins[name], `${p.id}: ${name}`);
    }
  });

  it('the named personas of the features exist and are found by name, id and slug', () => {
    assert.equal(loadPersona('Dr. Hanna Ebert').type, 'HBA');
    assert.equal(loadPersona('apotheke am markt').type, 'SMC-B');
    assert.equal(loadPersona('Jonas Keller').type, 'eGK');
    assert.equal(loadPersona('hba/dr-hanna-ebert').name, 'Dr. Hanna Ebert');
    assert.equal(loadPersona('jonas-keller').name, 'Jonas Keller');
    assert.throws(() => loadPersona('Dr. Niemand'), (e: Error) => e instanceof PersonaError && /unknown persona "Dr\. Niemand".*Dr\. Hanna Ebert/.test(e.message));
  });

  it('HBA: doctor, dentist, pharmacist and psychotherapist with their profession OIDs', () => {
    const oids = new Set(hba.filter(good).map((p) => p.professionOid));
    for (const oid of ['1.2.276.0.76.4.30', '1.2.276.0.76.4.31', '1.2.276.0.76.4.32', '1.2.276.0.76.4.46']) assert.ok(oids.has(oid), oid);
    assert.equal((loadPersona('Dr. Miriam Voss') as HbaPersona).professionItem, 'Psychologische/-r Psychotherapeut/-in');
  });

  it('SMC-B: practices, hospital, two public pharmacies (one "Apotheke am Markt"), hospital pharmacy, insurer', () => {
    const count = (oid: string) => smcb.filter((p) => good(p) && p.professionOid === oid).length;
    assert.ok(count('1.2.276.0.76.4.50') >= 1);
    assert.ok(count('1.2.276.0.76.4.51') >= 1);
    assert.ok(count('1.2.276.0.76.4.53') >= 1);
    assert.ok(count('1.2.276.0.76.4.54') >= 2);
    assert.ok(count('1.2.276.0.76.4.55') >= 1);
    assert.ok(count('1.2.276.0.76.4.59') >= 1);
    assert.equal((loadPersona('Apotheke am Markt') as SmcbPersona).professionOid, '1.2.276.0.76.4.54');
  });

  it('eGK: at least three GKV and two PKV insured and one Prüfkarte, all KVNRs and IKs with valid check digits', () => {
    const regular = egk.filter((p) => !p.insurance.pruefkarte);
    assert.ok(regular.filter((p) => p.insurance.type === 'GKV' && good(p)).length >= 3);
    assert.ok(regular.filter((p) => p.insurance.type === 'PKV').length >= 2);
    assert.equal(egk.filter((p) => p.insurance.pruefkarte).length, 1);
    for (const p of egk) {
      assert.ok(isValidKvnr(p.insurance.kvnr), p.insurance.kvnr);
      assert.ok(isValidIknr(p.insurance.iknr), p.insurance.iknr);
      assert.match(p.can, /^\d{6}$/);
    }
  });

  it('broken cards: expired and revoked certificates, no Telematik-ID, non-prescriber profession, PIN blocked', () => {
    assert.equal(loadPersona('Dr. Tobias Gerber').negative.certificates, 'expired');
    assert.equal(loadPersona('Dr. Sabine Roth').negative.certificates, 'revoked');
    const lorenz = loadPersona('Dr. Peter Lorenz') as HbaPersona;
    assert.equal(lorenz.negative.noTelematikId, true);
    assert.equal(lorenz.telematikId, undefined);
    // Allowed QES roles of the Fachdienst (A_19225 / A_25990 / ERP code): Arzt, Zahnarzt, Ärztekammern, and for DiGA the psychotherapists.
    const prescribers = ['1.2.276.0.76.4.30', '1.2.276.0.76.4.31', '1.3.6.1.4.1.24796.4.11.1', '1.2.276.0.76.4.45', '1.2.276.0.76.4.46', '1.2.276.0.76.4.47'];
    const wrong = loadPersona('Dr. Paul Vogt').negative.certificateProfessionOid;
    assert.ok(wrong && !prescribers.includes(wrong), String(wrong));
    assert.deepEqual(loadPersona('Dr. Eva Sperling').negative.blockedPins, ['PIN.QES']);
    assert.deepEqual(loadPersona('Lena Sperber').negative.blockedPins, ['PIN.CH']);
  });
});

describe('identifier rules', () => {
  it('KVNR check digit matches the real test eGK (X110540756) and rejects a changed digit', () => {
    assert.ok(isValidKvnr('X110540756'));
    assert.ok(!isValidKvnr('X110540757'));
    assert.ok(!isValidKvnr('x110540756'));
  });

  it('IK check digit matches real insurer IKs of the KBV examples and of the test eGK', () => {
    for (const ik of ['109500969', '109719018', '104212059', '101377508']) assert.ok(isValidIknr(ik), ik);
    assert.ok(!isValidIknr('109500968'));
  });

  it('Prüfidentität: KVNR "X0000" and a number 0001..5000 in characters 6–9 (A_20751)', () => {
    assert.ok(isPruefidentitaetKvnr('X000000012'));
    assert.ok(isPruefidentitaetKvnr('X000050009'));
    assert.ok(!isPruefidentitaetKvnr('X000000000'), '0000 is outside the range');
    assert.ok(!isPruefidentitaetKvnr('X000050010'), '5001 is outside the range');
    assert.ok(!isPruefidentitaetKvnr('X000100005'), 'X0001… is not X0000…');
    assert.ok(!isPruefidentitaetKvnr('Y000000012'));
    assert.ok(!isPruefidentitaetKvnr('X0000001'));
  });

  it('exactly the Prüfkarte persona carries a Prüfidentität', () => {
    const marked = egk.filter((p) => isPruefidentitaetKvnr(p.insurance.kvnr)).map((p) => p.name);
    assert.deepEqual(marked, egk.filter((p) => p.insurance.pruefkarte).map((p) => p.name));
    assert.deepEqual(marked, ['Erika Mustermann']);
  });
});

describe('invalid persona files', () => {
  const VALID_HBA = [
    'name: Dr. Test Person',
    'type: HBA',
    'iccsn: "80276883119919999999"',
    'person: { givenName: Test, surname: Person }',
    'telematikId: 1-HBA-Testkarte-883119919999999',
    'professionOid: 1.2.276.0.76.4.30',
    'pins:',
    '  PIN.CH: { pin: "123456", puk: "12345678" }',
    '  PIN.QES: { pin: "123456", puk: "12345678" }',
  ].join('\n');
  const VALID_EGK = [
    'name: Test Versicherte',
    'type: eGK',
    'iccsn: "80276883119939999999"',
    'person: { givenName: Test, surname: Versicherte }',
    'insurance: { kvnr: K204617388, iknr: "109500969", insurer: Test GKV-SV, type: GKV }',
    'can: "123123"',
    'pins:',
    '  PIN.CH: { pin: "123456", puk: "12345678" }',
  ].join('\n');

  /** Write files into a fresh persona folder and return the loader's error. */
  function loadError(files: Record<string, string>): PersonaError {
    const dir = tempDir('personas-');
    for (const [rel, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), content);
    }
    try {
      loadAllPersonas(dir);
    } catch (e) {
      assert.ok(e instanceof PersonaError, `not a PersonaError: ${String(e)}`);
      return e;
    }
    assert.fail('the persona folder loaded without error');
  }

  it('accepts the valid templates used below', () => {
    const dir = tempDir('personas-');
    fs.mkdirSync(path.join(dir, 'hba'));
    fs.mkdirSync(path.join(dir, 'egk'));
    fs.writeFileSync(path.join(dir, 'hba', 'test.yaml'), VALID_HBA);
    fs.writeFileSync(path.join(dir, 'egk', 'test.yaml'), VALID_EGK);
    assert.equal(loadAllPersonas(dir).length, 2);
  });

  const cases: Array<{ title: string; files: Record<string, string>; expect: RegExp[] }> = [
    {
      title: 'an unquoted ICCSN (a number) names the field and says to quote it',
      files: { 'hba/a.yaml': VALID_HBA.replace('"80276883119919999999"', '80276883119919999999') },
      expect: [/hba\/a\.yaml/, /iccsn: must be a string, got number .*write it in quotes/],
    },
    {
      title: 'a KVNR with a wrong check digit',
      files: { 'egk/a.yaml': VALID_EGK.replace('K204617388', 'K204617389') },
      expect: [/egk\/a\.yaml/, /insurance\.kvnr: "K204617389" has a wrong check digit \(expected 8/],
    },
    {
      title: 'a missing PIN of the card type',
      files: { 'hba/a.yaml': VALID_HBA.replace(/\n {2}PIN\.QES.*$/m, '') },
      expect: [/pins\.PIN\.QES: missing \(an HBA needs PIN\.CH, PIN\.QES\)/],
    },
    {
      title: 'a PIN that is too short and a PIN of another card type',
      files: { 'egk/a.yaml': VALID_EGK.replace('PIN.CH: { pin: "123456"', 'PIN.CH: { pin: "1234"') + '\n  PIN.QES: { pin: "123456", puk: "12345678" }' },
      expect: [/pins\.PIN\.CH\.pin: must be 6 to 8 digits/, /pins\.PIN\.QES: not a PIN of an eGK/],
    },
    {
      title: 'a misspelt field',
      files: { 'hba/a.yaml': VALID_HBA.replace('telematikId:', 'telematikID:') },
      expect: [/telematikID: unknown field/, /telematikId: missing/],
    },
    {
      title: 'a profession OID that is no HBA role',
      files: { 'hba/a.yaml': VALID_HBA.replace('1.2.276.0.76.4.30', '1.2.276.0.76.4.54') },
      expect: [/professionOid: 1\.2\.276\.0\.76\.4\.54 is not a profession OID of gemSpec_OID Tab_PKI_402/],
    },
    {
      title: 'a card type that does not match its folder',
      files: { 'smcb/a.yaml': VALID_HBA },
      expect: [/smcb\/a\.yaml/, /type: is HBA, but the file is in "smcb\/"/],
    },
    {
      title: 'a Prüfkarte without a Prüfidentität, and a Prüfidentität not marked as Prüfkarte',
      files: {
        'egk/a.yaml': VALID_EGK.replace('type: GKV }', 'type: GKV, pruefkarte: true }'),
        'egk/b.yaml': VALID_EGK.replace('K204617388', 'X000000428').replace('Test Versicherte', 'Zweite Versicherte').replace('39999999', '39999998'),
      },
      expect: [/2 invalid persona files/, /egk\/a\.yaml.*\n.*a Prüfkarte needs the KVNR of a Prüfidentität/, /egk\/b\.yaml[\s\S]*"X000000428" is a Prüfidentität/],
    },
    {
      title: 'negative attributes that do not fit the card',
      files: { 'egk/a.yaml': `${VALID_EGK}\nnegative: { certificates: lost, noTelematikId: true, blockedPins: [PIN.SMC] }` },
      expect: [/negative\.certificates: must be "expired" or "revoked"/, /negative\.noTelematikId: only for HBA and SMC-B/, /negative\.blockedPins: "PIN\.SMC" is not a PIN of an eGK/],
    },
    {
      title: 'a Telematik-ID together with noTelematikId',
      files: { 'hba/a.yaml': `${VALID_HBA}\nnegative: { noTelematikId: true }` },
      expect: [/telematikId: must be absent when negative\.noTelematikId is true/],
    },
    {
      title: 'two personas with the same name and ICCSN',
      files: { 'hba/a.yaml': VALID_HBA, 'hba/b.yaml': VALID_HBA },
      expect: [/duplicate persona identities/, /hba\/b\.yaml: name "Dr\. Test Person" is also used by .*hba\/a\.yaml/, /iccsn 80276883119919999999 is also used/],
    },
    {
      title: 'YAML that does not parse',
      files: { 'hba/a.yaml': 'name: [unclosed' },
      expect: [/hba\/a\.yaml: not valid YAML/],
    },
    {
      title: 'a folder that is no card type',
      files: { 'hbas/a.yaml': VALID_HBA },
      expect: [/hbas: not a card-type folder \(persona folders: egk, hba, smcb\)/],
    },
    {
      title: 'a persona file outside a card-type folder',
      files: { 'a.yaml': VALID_HBA },
      expect: [/a\.yaml: persona files belong in a card-type folder/],
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const e = loadError(c.files);
      for (const re of c.expect) assert.match(e.message, re);
    });
  }
});
