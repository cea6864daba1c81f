/**
 * Card personas: one YAML file per simulated card (eGK, HBA, SMC-B) under cards/personas/<type>/<slug>.yaml.
 *
 * A persona names the card holder as the Gherkin features do ("Dr. Hanna Ebert", "Apotheke am Markt",
 * "Jonas Keller"), carries the identity that goes into the card's certificates and files (KVNR, IK,
 * Telematik-ID, profession OID), the PINs and PUKs of the card's password objects, and optional
 * negative-test attributes (expired or revoked certificates, no Telematik-ID, a wrong profession OID,
 * blocked PINs).
 *
 * The loader validates every file and reports problems as "<file>: <field>: <problem>", all at once.
 * See docs/cards.md for the format and how to add a card.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { REVOCATION_REASONS, type RevocationReasonName } from '../simulators/lib/ocsp';
import { kvnrCheckDigit } from '../simulators/pki/profiles';
import { isPruefidentitaetKvnr } from '../simulators/lib/pruefkarte';

export type CardType = 'eGK' | 'HBA' | 'SMC-B';
export const CARD_TYPES: CardType[] = ['eGK', 'HBA', 'SMC-B'];

/** Folder of each card type below cards/personas. */
export const CARD_TYPE_DIRS: Record<CardType, string> = { eGK: 'egk', HBA: 'hba', 'SMC-B': 'smcb' };

/** The user PINs of each card type (password objects of the G2.1 object systems) a persona must define. */
export const CARD_PINS: Record<CardType, string[]> = {
  eGK: ['PIN.CH'],
  HBA: ['PIN.CH', 'PIN.QES'],
  'SMC-B': ['PIN.SMC'],
};

/** PIN length limits (minimumLength / maximumLength of PIN.CH, PIN.QES, PIN.SMC in the G2.1 images and specs). */
export const PIN_MIN_LENGTH = 6;
export const PIN_MAX_LENGTH = 8;
export const PUK_LENGTH = 8;

export const PERSONAS_DIR = path.join(__dirname, 'personas');

/**
 * Profession OIDs of persons (gemSpec_OID Tab_PKI_402, as listed in gematik ref-GemLibPki Role.java):
 * the roles an HBA certificate can carry.
 */
export const PROFESSION_OIDS: Record<string, string> = {
  '1.2.276.0.76.4.30': 'Ärztin/Arzt',
  '1.2.276.0.76.4.31': 'Zahnärztin/Zahnarzt',
  '1.2.276.0.76.4.32': 'Apotheker/-in',
  '1.2.276.0.76.4.33': 'Apothekerassistent/-in',
  '1.2.276.0.76.4.34': 'Pharmazieingenieur/-in',
  '1.2.276.0.76.4.35': 'pharmazeutisch-technische/-r Assistent/-in',
  '1.2.276.0.76.4.36': 'pharmazeutisch-kaufmännische/-r Angestellte',
  '1.2.276.0.76.4.37': 'Apothekenhelfer/-in',
  '1.2.276.0.76.4.38': 'Apothekenassistent/-in',
  '1.2.276.0.76.4.39': 'Pharmazeutische/-r Assistent/-in',
  '1.2.276.0.76.4.40': 'Apothekenfacharbeiter/-in',
  '1.2.276.0.76.4.41': 'Pharmaziepraktikant/-in',
  '1.2.276.0.76.4.42': 'Stud.pharm. oder Famulant/-in',
  '1.2.276.0.76.4.43': 'PTA-Praktikant/-in',
  '1.2.276.0.76.4.44': 'PKA Auszubildende/-r',
  '1.2.276.0.76.4.45': 'Psychotherapeut/-in',
  '1.2.276.0.76.4.46': 'Psychologische/-r Psychotherapeut/-in',
  '1.2.276.0.76.4.47': 'Kinder- und Jugendlichenpsychotherapeut/-in',
  '1.2.276.0.76.4.48': 'Rettungsassistent/-in',
  '1.2.276.0.76.4.178': 'Notfallsanitäter/-in',
  '1.2.276.0.76.4.232': 'Gesundheits- und Krankenpfleger/-in, Gesundheits- und Kinderkrankenpfleger/-in',
  '1.2.276.0.76.4.233': 'Altenpfleger/-in',
  '1.2.276.0.76.4.234': 'Pflegefachfrauen und Pflegefachmänner',
  '1.2.276.0.76.4.235': 'Hebamme',
  '1.2.276.0.76.4.236': 'Physiotherapeut/-in',
  '1.2.276.0.76.4.237': 'Augenoptiker/-in und Optometrist/-in',
  '1.2.276.0.76.4.238': 'Hörakustiker/-in',
  '1.2.276.0.76.4.239': 'Orthopädieschuhmacher/-in',
  '1.2.276.0.76.4.240': 'Orthopädietechniker/-in',
  '1.2.276.0.76.4.241': 'Zahntechniker/-in',
  '1.2.276.0.76.4.274': 'Ergotherapeut/-in',
  '1.2.276.0.76.4.275': 'Logopäde/Logopädin',
  '1.2.276.0.76.4.276': 'Podologe/Podologin',
};

/**
 * Institution OIDs (gemSpec_OID Tab_PKI_403, ref-GemLibPki Role.java): the roles an SMC-B certificate
 * can carry. The subset that takes part in E-Rezept and PoPP.
 */
export const INSTITUTION_OIDS: Record<string, string> = {
  '1.2.276.0.76.4.50': 'Betriebsstätte Arzt',
  '1.2.276.0.76.4.51': 'Zahnarztpraxis',
  '1.2.276.0.76.4.52': 'Betriebsstätte Psychotherapeut',
  '1.2.276.0.76.4.53': 'Krankenhaus',
  '1.2.276.0.76.4.54': 'Öffentliche Apotheke',
  '1.2.276.0.76.4.55': 'Krankenhausapotheke',
  '1.2.276.0.76.4.56': 'Bundeswehrapotheke',
  '1.2.276.0.76.4.57': 'Betriebsstätte Mobile Einrichtung Rettungsdienst',
  '1.2.276.0.76.4.58': 'Betriebsstätte gematik',
  '1.2.276.0.76.4.59': 'Betriebsstätte Kostenträger',
  '1.2.276.0.76.4.245': 'Betriebsstätte Gesundheits-, Kranken- und Altenpflege',
  '1.2.276.0.76.4.246': 'Betriebsstätte Geburtshilfe',
  '1.2.276.0.76.4.247': 'Betriebsstätte Physiotherapie',
  '1.2.276.0.76.4.254': 'Betriebsstätte Sanitätsdienst Bundeswehr',
  '1.2.276.0.76.4.255': 'Betriebsstätte Öffentlicher Gesundheitsdienst',
  '1.2.276.0.76.4.256': 'Betriebsstätte Arbeitsmedizin',
  '1.2.276.0.76.4.257': 'Betriebsstätte Vorsorge- und Rehabilitation',
  '1.2.276.0.76.4.284': 'Betriebsstätte Weitere Kostenträger im Gesundheitswesen',
};

/** Role OID of insured persons (eGK certificates). */
export const OID_VERSICHERTER = '1.2.276.0.76.4.49';

export interface PinSpec {
  /** The PIN as ASCII digits. */
  pin: string;
  /** The PUK (resetting code) as ASCII digits. */
  puk: string;
}

export interface PersonName {
  title?: string;
  givenName: string;
  surname: string;
}

export interface NegativeAttributes {
  /** All X.509 certificates of the card are expired (notAfter in the past) or revoked in the PKI. */
  certificates?: 'expired' | 'revoked';
  /** Revocation reason for `certificates: revoked` (default keyCompromise). */
  revocationReason?: RevocationReasonName;
  /** HBA / SMC-B: the certificates carry no Telematik-ID (no registrationNumber in the admission). */
  noTelematikId: boolean;
  /** HBA / SMC-B: the certificates carry this role OID instead of the persona's professionOid. */
  certificateProfessionOid?: string;
  /** PINs whose retry counter is 0 when the card is inserted (VERIFY answers 6983). */
  blockedPins: string[];
}

interface PersonaCommon {
  /** "<type folder>/<file name without .yaml>", e.g. "hba/dr-hanna-ebert": the persona's stable id. */
  id: string;
  /** File name without .yaml, e.g. "dr-hanna-ebert". */
  slug: string;
  /** Absolute path of the YAML file. */
  file: string;
  /** Display name used in the Gherkin features. */
  name: string;
  type: CardType;
  /** ICCSN, 20 digits (EF.GDO). */
  iccsn: string;
  purpose?: string;
  /** Card access number for PACE (contactless interface), 6 digits. */
  can?: string;
  pins: Record<string, PinSpec>;
  negative: NegativeAttributes;
}

export interface HbaPersona extends PersonaCommon {
  type: 'HBA';
  person: PersonName;
  /** Absent only with negative.noTelematikId. */
  telematikId?: string;
  /** Profession OID of the holder (Tab_PKI_402). */
  professionOid: string;
  professionItem: string;
}

export interface SmcbOrganization {
  name: string;
  street?: string;
  postalCode?: string;
  locality?: string;
  /** Holder of the institution (e.g. the physician of a practice): SN/GN of the certificate subject. */
  holder?: PersonName;
  /** IK of a Kostenträger. */
  iknr?: string;
}

export interface SmcbPersona extends PersonaCommon {
  type: 'SMC-B';
  organization: SmcbOrganization;
  telematikId?: string;
  /** Institution OID (Tab_PKI_403); the admission calls it professionOid too. */
  professionOid: string;
  professionItem: string;
}

export interface Address {
  street?: string;
  houseNumber?: string;
  postalCode?: string;
  city?: string;
}

export interface InsuredPerson extends PersonName {
  /** YYYY-MM-DD */
  birthDate?: string;
  /** VSD Geschlecht: M, W, D or X. */
  sex?: 'M' | 'W' | 'D' | 'X';
  address?: Address;
}

export interface Insurance {
  kvnr: string;
  /** IK of the insurer (9 digits with check digit). */
  iknr: string;
  insurer: string;
  type: 'GKV' | 'PKV';
  /** Prüfkarte eGK: the KVNR is one of a Prüfidentität (see isPruefidentitaetKvnr). */
  pruefkarte: boolean;
  /** Begin of the insurance cover, YYYY-MM-DD. */
  since?: string;
}

export interface EgkPersona extends PersonaCommon {
  type: 'eGK';
  person: InsuredPerson;
  insurance: Insurance;
  can: string;
}

export type Persona = HbaPersona | SmcbPersona | EgkPersona;

export class PersonaError extends Error {
  override name = 'PersonaError';
  constructor(
    message: string,
    readonly file?: string,
    readonly issues: string[] = [],
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// Identifier rules
// ---------------------------------------------------------------------------

/** KVNR: capital letter, 8 digits, check digit (modulus 10, weights 1-2 over the letter's position and the digits). */
export function isValidKvnr(kvnr: string): boolean {
  if (!/^[A-Z]\d{9}$/.test(kvnr)) return false;
  return kvnrCheckDigit(kvnr[0], kvnr.slice(1, 9)) === Number(kvnr[9]);
}

/** The Prüfidentität rule (A_20751) lives in simulators/lib/pruefkarte.ts; re-exported here. */
export { isPruefidentitaetKvnr };

/**
 * IK (Institutionskennzeichen): 9 digits; the last is a check digit over digits 3 to 8, weighted
 * 2,1,2,1,2,1, two-digit products replaced by their digit sum, sum modulo 10.
 */
export function isValidIknr(ik: string): boolean {
  if (!/^\d{9}$/.test(ik)) return false;
  let sum = 0;
  for (let i = 2; i < 8; i++) {
    let p = Number(ik[i]) * (i % 2 === 0 ? 2 : 1);
    if (p > 9) p = Math.floor(p / 10) + (p % 10);
    sum += p;
  }
  return sum % 10 === Number(ik[8]);
}

/** ICCSN: 20 digits, major industry identifier 80 (health) and country code 276 (Germany) first. */
export function isValidIccsn(iccsn: string): boolean {
  return /^80276\d{15}$/.test(iccsn);
}

const TELEMATIK_ID = /^\d+-[A-Za-z0-9 '()+,\-./:=?]+$/;
const OID_SYNTAX = /^[0-2](\.(0|[1-9]\d*))+$/;

// ---------------------------------------------------------------------------
// Validation of one file
// ---------------------------------------------------------------------------

type Raw = Record<string, unknown>;

class Issues {
  readonly list: string[] = [];
  add(field: string, problem: string): void {
    this.list.push(`${field}: ${problem}`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v}"`;
  return `${typeof v} ${String(v)}`;
}

function isMapping(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Raw, allowed: string[], field: string, issues: Issues): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) issues.add(field ? `${field}.${k}` : k, `unknown field (known here: ${allowed.join(', ')})`);
  }
}

function str(obj: Raw, key: string, field: string, issues: Issues, opts: { required?: boolean; pattern?: RegExp; hint?: string } = {}): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (opts.required) issues.add(field, 'missing');
    return undefined;
  }
  if (typeof v !== 'string') {
    const quote = typeof v === 'number' ? ' (numbers lose leading zeros and digits: write it in quotes)' : '';
    issues.add(field, `must be a string, got ${describe(v)}${quote}`);
    return undefined;
  }
  const s = v.trim();
  if (opts.required && s === '') {
    issues.add(field, 'must not be empty');
    return undefined;
  }
  if (opts.pattern && !opts.pattern.test(s)) {
    issues.add(field, `${opts.hint ?? `does not match ${opts.pattern}`}, got "${s}"`);
    return undefined;
  }
  return s;
}

function dateStr(obj: Raw, key: string, field: string, issues: Issues): string | undefined {
  const s = str(obj, key, field, issues, { pattern: /^\d{4}-\d{2}-\d{2}$/, hint: 'must be a date YYYY-MM-DD in quotes' });
  if (s !== undefined && Number.isNaN(new Date(`${s}T00:00:00Z`).getTime())) {
    issues.add(field, `is not a valid date, got "${s}"`);
    return undefined;
  }
  if (s !== undefined && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) !== s) {
    issues.add(field, `is not a valid calendar date, got "${s}"`);
    return undefined;
  }
  return s;
}

function personName(v: unknown, field: string, issues: Issues, extra: string[] = []): (PersonName & Raw) | undefined {
  if (!isMapping(v)) {
    issues.add(field, v === undefined ? 'missing' : `must be a mapping with givenName and surname, got ${describe(v)}`);
    return undefined;
  }
  checkKeys(v, ['title', 'givenName', 'surname', ...extra], field, issues);
  const givenName = str(v, 'givenName', `${field}.givenName`, issues, { required: true });
  const surname = str(v, 'surname', `${field}.surname`, issues, { required: true });
  const title = str(v, 'title', `${field}.title`, issues);
  if (givenName === undefined || surname === undefined) return undefined;
  return { ...v, givenName, surname, ...(title ? { title } : {}) };
}

function pins(v: unknown, type: CardType, issues: Issues): Record<string, PinSpec> {
  const required = CARD_PINS[type];
  const out: Record<string, PinSpec> = {};
  if (!isMapping(v)) {
    issues.add('pins', v === undefined ? `missing (an ${type} needs ${required.join(', ')})` : `must be a mapping of PIN names, got ${describe(v)}`);
    return out;
  }
  for (const name of Object.keys(v)) {
    if (!required.includes(name)) issues.add(`pins.${name}`, `not a PIN of an ${type} (its PINs: ${required.join(', ')})`);
  }
  for (const name of required) {
    const spec = v[name];
    const field = `pins.${name}`;
    if (!isMapping(spec)) {
      issues.add(field, spec === undefined ? `missing (an ${type} needs ${required.join(', ')})` : `must be a mapping { pin: "…", puk: "…" }, got ${describe(spec)}`);
      continue;
    }
    checkKeys(spec, ['pin', 'puk'], field, issues);
    const pin = str(spec, 'pin', `${field}.pin`, issues, {
      required: true,
      pattern: new RegExp(`^\\d{${PIN_MIN_LENGTH},${PIN_MAX_LENGTH}}$`),
      hint: `must be ${PIN_MIN_LENGTH} to ${PIN_MAX_LENGTH} digits in quotes`,
    });
    const puk = str(spec, 'puk', `${field}.puk`, issues, {
      required: true,
      pattern: new RegExp(`^\\d{${PUK_LENGTH}}$`),
      hint: `must be ${PUK_LENGTH} digits in quotes`,
    });
    if (pin !== undefined && puk !== undefined) out[name] = { pin, puk };
  }
  return out;
}

function negative(v: unknown, type: CardType, issues: Issues): NegativeAttributes {
  const out: NegativeAttributes = { noTelematikId: false, blockedPins: [] };
  if (v === undefined || v === null) return out;
  if (!isMapping(v)) {
    issues.add('negative', `must be a mapping, got ${describe(v)}`);
    return out;
  }
  checkKeys(v, ['certificates', 'revocationReason', 'noTelematikId', 'certificateProfessionOid', 'blockedPins'], 'negative', issues);
  if (v.certificates !== undefined) {
    if (v.certificates === 'expired' || v.certificates === 'revoked') out.certificates = v.certificates;
    else issues.add('negative.certificates', `must be "expired" or "revoked", got ${describe(v.certificates)}`);
  }
  if (v.revocationReason !== undefined) {
    if (out.certificates !== 'revoked') issues.add('negative.revocationReason', 'only allowed with certificates: revoked');
    else if (typeof v.revocationReason !== 'string' || !Object.prototype.hasOwnProperty.call(REVOCATION_REASONS, v.revocationReason)) {
      issues.add('negative.revocationReason', `must be one of ${Object.keys(REVOCATION_REASONS).join(', ')}, got ${describe(v.revocationReason)}`);
    } else out.revocationReason = v.revocationReason as RevocationReasonName;
  }
  if (v.noTelematikId !== undefined) {
    if (typeof v.noTelematikId !== 'boolean') issues.add('negative.noTelematikId', `must be true or false, got ${describe(v.noTelematikId)}`);
    else if (v.noTelematikId && type === 'eGK') issues.add('negative.noTelematikId', 'only for HBA and SMC-B (an eGK has no Telematik-ID)');
    else out.noTelematikId = v.noTelematikId;
  }
  if (v.certificateProfessionOid !== undefined) {
    if (type === 'eGK') issues.add('negative.certificateProfessionOid', 'only for HBA and SMC-B');
    else {
      const oid = str(v, 'certificateProfessionOid', 'negative.certificateProfessionOid', issues, { pattern: OID_SYNTAX, hint: 'must be an OID' });
      if (oid) out.certificateProfessionOid = oid;
    }
  }
  if (v.blockedPins !== undefined) {
    if (!Array.isArray(v.blockedPins)) issues.add('negative.blockedPins', `must be a list of PIN names, got ${describe(v.blockedPins)}`);
    else {
      for (const p of v.blockedPins) {
        if (typeof p !== 'string' || !CARD_PINS[type].includes(p)) {
          issues.add('negative.blockedPins', `${describe(p)} is not a PIN of an ${type} (its PINs: ${CARD_PINS[type].join(', ')})`);
        } else if (!out.blockedPins.includes(p)) out.blockedPins.push(p);
      }
    }
  }
  return out;
}

const COMMON_KEYS = ['name', 'type', 'iccsn', 'purpose', 'can', 'pins', 'negative'];

function validate(raw: unknown, file: string, idInfo: { id: string; slug: string; dir?: string }): Persona {
  const issues = new Issues();
  if (!isMapping(raw)) throw new PersonaError(`${file}: a persona file must be a YAML mapping, got ${describe(raw)}`, file);

  const name = str(raw, 'name', 'name', issues, { required: true });
  let type: CardType | undefined;
  if (raw.type === undefined) issues.add('type', `missing (one of ${CARD_TYPES.join(', ')})`);
  else if (typeof raw.type !== 'string' || !CARD_TYPES.includes(raw.type as CardType)) {
    issues.add('type', `must be one of ${CARD_TYPES.join(', ')}, got ${describe(raw.type)}`);
  } else type = raw.type as CardType;
  if (type && idInfo.dir !== undefined && idInfo.dir !== CARD_TYPE_DIRS[type]) {
    issues.add('type', `is ${type}, but the file is in "${idInfo.dir}/" (${type} personas belong in cards/personas/${CARD_TYPE_DIRS[type]}/)`);
  }
  const iccsn = str(raw, 'iccsn', 'iccsn', issues, {
    required: true,
    pattern: /^80276\d{15}$/,
    hint: 'must be 20 digits in quotes, starting with 80 (health) and 276 (Germany)',
  });
  const purpose = str(raw, 'purpose', 'purpose', issues);
  const can = str(raw, 'can', 'can', issues, { pattern: /^\d{6}$/, hint: 'must be 6 digits in quotes' });
  if (!type) {
    throw new PersonaError(`${file}: invalid persona:\n  - ${issues.list.join('\n  - ')}`, file, issues.list);
  }
  const pinSpecs = pins(raw.pins, type, issues);
  const neg = negative(raw.negative, type, issues);
  const common = {
    id: idInfo.id,
    slug: idInfo.slug,
    file,
    name: name ?? '',
    type,
    iccsn: iccsn ?? '',
    ...(purpose ? { purpose } : {}),
    ...(can ? { can } : {}),
    pins: pinSpecs,
    negative: neg,
  };

  let persona: Persona | undefined;
  if (type === 'HBA' || type === 'SMC-B') {
    const typeKeys = type === 'HBA' ? ['person', 'telematikId', 'professionOid'] : ['organization', 'telematikId', 'professionOid'];
    checkKeys(raw, [...COMMON_KEYS, ...typeKeys], '', issues);
    const telematikId = str(raw, 'telematikId', 'telematikId', issues, {
      pattern: TELEMATIK_ID,
      hint: 'must look like "<sector>-<id>" (digits, a hyphen, then PrintableString characters)',
    });
    if (neg.noTelematikId && raw.telematikId !== undefined) {
      issues.add('telematikId', 'must be absent when negative.noTelematikId is true');
    } else if (!neg.noTelematikId && raw.telematikId === undefined) {
      issues.add('telematikId', `missing (every ${type} carries one; set negative.noTelematikId: true for a card without)`);
    }
    const table = type === 'HBA' ? PROFESSION_OIDS : INSTITUTION_OIDS;
    const what = type === 'HBA' ? 'a profession OID of gemSpec_OID Tab_PKI_402' : 'an institution OID of gemSpec_OID Tab_PKI_403';
    const professionOid = str(raw, 'professionOid', 'professionOid', issues, { required: true, pattern: OID_SYNTAX, hint: 'must be an OID' });
    if (professionOid !== undefined && !table[professionOid]) {
      const examples = Object.entries(table)
        .slice(0, 4)
        .map(([o, item]) => `${o} ${item}`)
        .join(', ');
      const list = type === 'HBA' ? 'PROFESSION_OIDS' : 'INSTITUTION_OIDS';
      issues.add('professionOid', `${professionOid} is not ${what} (e.g. ${examples}; all: ${list} in cards/persona.ts)`);
    }
    if (neg.certificateProfessionOid !== undefined && neg.certificateProfessionOid === professionOid) {
      issues.add('negative.certificateProfessionOid', 'must differ from professionOid (it is the wrong role the certificates carry)');
    }
    if (type === 'HBA') {
      const person = personName(raw.person, 'person', issues);
      if (person && name !== undefined && professionOid && table[professionOid]) {
        persona = {
          ...common,
          type,
          person: { givenName: person.givenName, surname: person.surname, ...(person.title ? { title: person.title } : {}) },
          ...(telematikId ? { telematikId } : {}),
          professionOid,
          professionItem: table[professionOid],
        };
      }
    } else {
      const org = raw.organization;
      let organization: SmcbOrganization | undefined;
      if (!isMapping(org)) {
        issues.add('organization', org === undefined ? 'missing' : `must be a mapping, got ${describe(org)}`);
      } else {
        checkKeys(org, ['name', 'street', 'postalCode', 'locality', 'holder', 'iknr'], 'organization', issues);
        const orgName = str(org, 'name', 'organization.name', issues, { required: true });
        const street = str(org, 'street', 'organization.street', issues);
        const postalCode = str(org, 'postalCode', 'organization.postalCode', issues, { pattern: /^\d{5}$/, hint: 'must be 5 digits in quotes' });
        const locality = str(org, 'locality', 'organization.locality', issues);
        const iknr = str(org, 'iknr', 'organization.iknr', issues, { pattern: /^\d{9}$/, hint: 'must be 9 digits in quotes' });
        if (iknr !== undefined && !isValidIknr(iknr)) issues.add('organization.iknr', `"${iknr}" has a wrong check digit`);
        const holder = org.holder === undefined ? undefined : personName(org.holder, 'organization.holder', issues);
        if (orgName !== undefined) {
          organization = {
            name: orgName,
            ...(street ? { street } : {}),
            ...(postalCode ? { postalCode } : {}),
            ...(locality ? { locality } : {}),
            ...(holder ? { holder: { givenName: holder.givenName, surname: holder.surname, ...(holder.title ? { title: holder.title } : {}) } } : {}),
            ...(iknr ? { iknr } : {}),
          };
        }
      }
      if (organization && name !== undefined && professionOid && table[professionOid]) {
        persona = { ...common, type, organization, ...(telematikId ? { telematikId } : {}), professionOid, professionItem: table[professionOid] };
      }
    }
  } else {
    checkKeys(raw, [...COMMON_KEYS, 'person', 'insurance'], '', issues);
    if (raw.can === undefined) issues.add('can', 'missing (a G2.1 eGK has a contactless interface and needs a CAN)');
    const person = personName(raw.person, 'person', issues, ['birthDate', 'sex', 'address']);
    let insured: InsuredPerson | undefined;
    if (person) {
      const birthDate = dateStr(person, 'birthDate', 'person.birthDate', issues);
      const sex = str(person, 'sex', 'person.sex', issues, { pattern: /^[MWDX]$/, hint: 'must be M, W, D or X' }) as InsuredPerson['sex'];
      let address: Address | undefined;
      if (person.address !== undefined) {
        if (!isMapping(person.address)) issues.add('person.address', `must be a mapping, got ${describe(person.address)}`);
        else {
          const a = person.address;
          checkKeys(a, ['street', 'houseNumber', 'postalCode', 'city'], 'person.address', issues);
          address = {};
          for (const k of ['street', 'houseNumber', 'city'] as const) {
            const s = str(a, k, `person.address.${k}`, issues);
            if (s) address[k] = s;
          }
          const plz = str(a, 'postalCode', 'person.address.postalCode', issues, { pattern: /^\d{5}$/, hint: 'must be 5 digits in quotes' });
          if (plz) address.postalCode = plz;
        }
      }
      insured = {
        givenName: person.givenName,
        surname: person.surname,
        ...(person.title ? { title: person.title } : {}),
        ...(birthDate ? { birthDate } : {}),
        ...(sex ? { sex } : {}),
        ...(address ? { address } : {}),
      };
    }
    let insurance: Insurance | undefined;
    const ins = raw.insurance;
    if (!isMapping(ins)) {
      issues.add('insurance', ins === undefined ? 'missing (kvnr, iknr, insurer, type)' : `must be a mapping, got ${describe(ins)}`);
    } else {
      checkKeys(ins, ['kvnr', 'iknr', 'insurer', 'type', 'pruefkarte', 'since'], 'insurance', issues);
      const kvnr = str(ins, 'kvnr', 'insurance.kvnr', issues, { required: true, pattern: /^[A-Z]\d{9}$/, hint: 'must be a capital letter and 9 digits' });
      if (kvnr !== undefined && !isValidKvnr(kvnr)) {
        issues.add('insurance.kvnr', `"${kvnr}" has a wrong check digit (expected ${kvnrCheckDigit(kvnr[0], kvnr.slice(1, 9))} at the end)`);
      }
      const iknr = str(ins, 'iknr', 'insurance.iknr', issues, { required: true, pattern: /^\d{9}$/, hint: 'must be 9 digits in quotes' });
      if (iknr !== undefined && !isValidIknr(iknr)) issues.add('insurance.iknr', `"${iknr}" has a wrong check digit`);
      const insurer = str(ins, 'insurer', 'insurance.insurer', issues, { required: true });
      let insType: 'GKV' | 'PKV' | undefined;
      if (ins.type === 'GKV' || ins.type === 'PKV') insType = ins.type;
      else issues.add('insurance.type', ins.type === undefined ? 'missing (GKV or PKV)' : `must be GKV or PKV, got ${describe(ins.type)}`);
      let pruefkarte = false;
      if (ins.pruefkarte !== undefined) {
        if (typeof ins.pruefkarte !== 'boolean') issues.add('insurance.pruefkarte', `must be true or false, got ${describe(ins.pruefkarte)}`);
        else pruefkarte = ins.pruefkarte;
      }
      if (kvnr !== undefined) {
        if (pruefkarte && !isPruefidentitaetKvnr(kvnr)) {
          issues.add('insurance.kvnr', `a Prüfkarte needs the KVNR of a Prüfidentität: "X0000", a number 0001..5000, check digit (A_20751), got "${kvnr}"`);
        }
        if (!pruefkarte && isPruefidentitaetKvnr(kvnr)) {
          issues.add('insurance.kvnr', `"${kvnr}" is a Prüfidentität (the E-Rezept-Fachdienst treats it as a Prüfkarte, A_20751): set insurance.pruefkarte: true or choose another KVNR`);
        }
      }
      if (pruefkarte && insType === 'PKV') issues.add('insurance.pruefkarte', 'a Prüfkarte eGK is a GKV card (type: GKV)');
      const since = dateStr(ins, 'since', 'insurance.since', issues);
      if (kvnr !== undefined && iknr !== undefined && insurer !== undefined && insType) {
        insurance = { kvnr, iknr, insurer, type: insType, pruefkarte, ...(since ? { since } : {}) };
      }
    }
    if (insured && insurance && can && name !== undefined) persona = { ...common, type: 'eGK', person: insured, insurance, can };
  }

  if (iccsn !== undefined && !isValidIccsn(iccsn)) issues.add('iccsn', `"${iccsn}" is not a valid ICCSN`);
  for (const b of neg.blockedPins) if (!pinSpecs[b]) issues.add('negative.blockedPins', `${b} has no entry in pins`);
  if (issues.list.length || !persona) {
    const list = issues.list.length ? issues.list : ['incomplete persona'];
    throw new PersonaError(`${file}: invalid persona:\n  - ${list.join('\n  - ')}`, file, list);
  }
  return persona;
}

/** Load and validate one persona file. Its id comes from its folder and file name. */
export function loadPersonaFile(file: string): Persona {
  const abs = path.resolve(file);
  const slug = path.basename(abs).replace(/\.ya?ml$/, '');
  const dir = path.basename(path.dirname(abs));
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new PersonaError(`${abs}: cannot read persona file: ${(e as Error).message}`, abs);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text, { uniqueKeys: true });
  } catch (e) {
    throw new PersonaError(`${abs}: not valid YAML: ${(e as Error).message}`, abs);
  }
  const knownDir = (Object.values(CARD_TYPE_DIRS) as string[]).includes(dir) ? dir : undefined;
  return validate(raw, abs, { id: `${dir}/${slug}`, slug, dir: knownDir });
}

/** Validate personas against each other: unique names, ICCSNs, KVNRs and Telematik-IDs. */
export function checkUnique(personas: Persona[]): void {
  const problems: string[] = [];
  const seen = (key: string, label: string, byKey: Map<string, Persona>, p: Persona) => {
    const other = byKey.get(key);
    if (other) problems.push(`${p.file}: ${label} is also used by ${other.file} ("${other.name}")`);
    else byKey.set(key, p);
  };
  const names = new Map<string, Persona>();
  const iccsns = new Map<string, Persona>();
  const kvnrs = new Map<string, Persona>();
  const telematikIds = new Map<string, Persona>();
  for (const p of personas) {
    seen(p.name.toLowerCase(), `name "${p.name}"`, names, p);
    seen(p.iccsn, `iccsn ${p.iccsn}`, iccsns, p);
    if (p.type === 'eGK') seen(p.insurance.kvnr, `insurance.kvnr ${p.insurance.kvnr}`, kvnrs, p);
    else if (p.telematikId) seen(p.telematikId, `telematikId ${p.telematikId}`, telematikIds, p);
  }
  if (problems.length) throw new PersonaError(`duplicate persona identities:\n  - ${problems.join('\n  - ')}`, undefined, problems);
}

const cache = new Map<string, { stamp: string; personas: Persona[] }>();

function personaFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) throw new PersonaError(`persona folder not found: ${dir}`);
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!(Object.values(CARD_TYPE_DIRS) as string[]).includes(entry.name)) {
        throw new PersonaError(`${full}: not a card-type folder (persona folders: ${Object.values(CARD_TYPE_DIRS).join(', ')})`, full);
      }
      for (const f of fs.readdirSync(full).sort()) if (/\.ya?ml$/.test(f)) files.push(path.join(full, f));
    } else if (/\.ya?ml$/.test(entry.name)) {
      throw new PersonaError(`${full}: persona files belong in a card-type folder (${Object.values(CARD_TYPE_DIRS).join('/, ')}/)`, full);
    }
  }
  return files;
}

/**
 * Load and validate all personas of a folder (default cards/personas). Every file is checked; all
 * problems of all files are reported together. The result is cached until a file changes.
 */
export function loadAllPersonas(dir: string = PERSONAS_DIR): Persona[] {
  const abs = path.resolve(dir);
  const files = personaFiles(abs);
  const stamp = files.map((f) => `${f}:${fs.statSync(f).mtimeMs}`).join('|');
  const hit = cache.get(abs);
  if (hit && hit.stamp === stamp) return hit.personas;
  const personas: Persona[] = [];
  const errors: PersonaError[] = [];
  for (const f of files) {
    try {
      personas.push(loadPersonaFile(f));
    } catch (e) {
      if (e instanceof PersonaError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    throw new PersonaError(`${errors.length} invalid persona files:\n${errors.map((e) => e.message).join('\n')}`, undefined, errors.flatMap((e) => e.issues));
  }
  checkUnique(personas);
  cache.set(abs, { stamp, personas });
  return personas;
}

/** Find a persona by display name ("Dr. Hanna Ebert", case-insensitive), id ("hba/dr-hanna-ebert") or unique slug. */
export function findPersona(personas: Persona[], key: string): Persona {
  const k = key.trim().toLowerCase();
  const byName = personas.find((p) => p.name.toLowerCase() === k);
  if (byName) return byName;
  const byId = personas.find((p) => p.id === k);
  if (byId) return byId;
  const bySlug = personas.filter((p) => p.slug === k);
  if (bySlug.length === 1) return bySlug[0];
  const known = personas.map((p) => `"${p.name}" (${p.type})`).join(', ');
  throw new PersonaError(`unknown persona "${key}" (known: ${known})`);
}
