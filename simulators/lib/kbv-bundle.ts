/**
 * Builder of the KBV prescription bundle (kbv.ita.erp 1.3, KBV_PR_ERP_Bundle|1.3) as a PVS
 * produces it: Composition, MedicationRequest, Medication (PZN or free text), Patient,
 * Practitioner, Organization, Coverage — element by element, shaped like the KBV examples in
 * shared/reference/kbv-bundles (Beispiel_1_PZN.xml).
 *
 *   const input = { patient: patientFromEgk(egk), coverage: coverageFromEgk(egk), prescriber: prescriberFromHba(hba),
 *                   organization: organizationFromSmcb(smcb), medication: { kind: 'pzn', pzn: '06313728', name: 'Ibuprofen 400' } };
 *   checkPrescriptionInput(input);                          // KbvBundleError on missing/invalid data (KVNR, PZN, …)
 *   const bundle = buildKbvBundle({ ...input, prescriptionId }, { now: clock.now() });
 *   const issues = validateKbvBundle(bundle);               // FHIR profile validation + the input rules
 *   assertValidKbvBundle(bundle);                           // throws KbvBundleError with the issues (A_18612)
 *   const xml = serializeKbvBundle(bundle);                 // Buffer, the document to sign
 *
 * The profiles of KBV_PR_FOR_* (Patient, Practitioner, Organization, Coverage) are not in the
 * FHIR package set, so their rules (KVNR check digit, LANR/BSNR form, IK) are checked here.
 */
import * as crypto from 'node:crypto';
import type { EgkPersona, HbaPersona, SmcbPersona } from '../../cards/persona';
import { assertPrescriptionId, flowTypeOf, isValidPrescriptionId } from './erezept-token';
import { errorsOf, isValidKvnr, serializeFhirXml, validateResource, type FhirJson, type FhirResource, type ValidationIssue } from './fhir';

// ---------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------

export interface KbvAddress {
  street: string;
  houseNumber?: string;
  postalCode: string;
  city: string;
  /** Country code (default D). */
  country?: string;
}

export interface KbvPatient {
  /** KVNR (10 characters, check digit). */
  kvnr: string;
  givenName: string;
  surname: string;
  /** Academic title, e.g. "Dr." */
  title?: string;
  /** YYYY-MM-DD. */
  birthDate: string;
  address?: KbvAddress;
}

export interface KbvCoverage {
  type: 'GKV' | 'PKV';
  /** IK of the insurer (9 digits). */
  payorIk: string;
  payorName: string;
  /** KBV_CS_SFHIR_KBV_VERSICHERTENSTATUS: 1 member, 3 family, 5 pensioner (default 1). */
  insuredStatus?: '1' | '3' | '5';
  /** KBV_CS_SFHIR_KBV_PERSONENGRUPPE (default 00). */
  specialGroup?: string;
  /** KBV_CS_SFHIR_KBV_DMP (default 00). */
  dmp?: string;
  /** KBV_CS_SFHIR_ITA_WOP, the KV region (default 72, Berlin). */
  wop?: string;
}

export interface KbvPrescriber {
  givenName: string;
  surname: string;
  title?: string;
  /** Lebenslange Arztnummer: 9 digits, the 7th a check digit over the first 6. */
  lanr: string;
  /** KBV_CS_FOR_Qualification_Type (00 Arzt, 03 Arzt in Weiterbildung, …; default 00). */
  qualificationType?: string;
  /** Berufsbezeichnung (free text), e.g. "Fachärztin für Allgemeinmedizin". */
  jobTitle: string;
}

export interface KbvOrganization {
  name: string;
  /** Betriebsstättennummer: 9 digits. */
  bsnr: string;
  phone: string;
  email?: string;
  address: KbvAddress;
}

export type KbvMedication =
  | {
      kind: 'pzn';
      /** Pharmazentralnummer, 8 digits (Modulo 11 check digit). */
      pzn: string;
      /** Product name as printed (Medication.code.text). */
      name: string;
      /** Darreichungsform, KBV_CS_SFHIR_KBV_DARREICHUNGSFORM (default TAB). */
      form?: string;
      /** Normgröße N1/N2/N3/… (optional). */
      normSize?: string;
      /** Package contents (Medication.amount), e.g. { value: 20, unit: 'St' }. */
      amount?: { value: number; unit: string };
      /** The active ingredient and its strength (1.3 requires one), e.g. Ibuprofen 400 mg per 1 Stück. */
      ingredient: { name: string; strength: { value: number; unit: string }; per?: { value: number; unit: string } };
    }
  | {
      kind: 'freetext';
      /** The prescription in words (Medication.code.text). */
      text: string;
      /** Darreichungsform as text (optional). */
      form?: string;
    };

export interface KbvPrescriptionInput {
  /** The Fachdienst's PrescriptionID (A_18544); optional until $create answered. */
  prescriptionId?: string;
  patient: KbvPatient;
  coverage: KbvCoverage;
  prescriber: KbvPrescriber;
  organization: KbvOrganization;
  medication: KbvMedication;
  /** Packages to dispense (default 1). */
  quantity?: number;
  /** Dosage text, e.g. "1-0-1-0" (absent: no dosage given). */
  dosage?: string;
  /** aut idem: substitution allowed (default true). */
  substitutionAllowed?: boolean;
  /** YYYY-MM-DD (default: today in Europe/Berlin, from opts.now). */
  authoredOn?: string;
  /** KBV_CS_FOR_StatusCoPayment for GKV: 0 zuzahlungspflichtig, 1 befreit, 2 (default 0). */
  statusCoPayment?: '0' | '1' | '2';
  /** Notdienstgebühr (default false). */
  emergencyServicesFee?: boolean;
  /** Mehrfachverordnung (MVO): this prescription is part `numerator` of `denominator` (absent: no MVO). */
  multiplePrescription?: KbvMultiplePrescription;
}

/**
 * One part prescription of a Mehrfachverordnung (KBV_EX_ERP_Multiple_Prescription): Nummerierung
 * numerator/denominator (1–4, 2–4), Zeitraum start (required) and end (YYYY-MM-DD), ID (urn:uuid:…,
 * the same for all parts of one MVO; default: a new one).
 */
export interface KbvMultiplePrescription {
  numerator: number;
  denominator: number;
  start: string;
  end?: string;
  id?: string;
}

export interface BuildOptions {
  /** Time of Bundle.timestamp and Composition.date (default now). */
  now?: Date;
  /** UUIDs of the resources (default crypto.randomUUID). */
  uuid?: () => string;
  /** KBV Prüfnummer of the PVS (Composition.author Device). */
  pruefnummer?: string;
}

export const KBV_BUNDLE_PROFILE = 'https://fhir.kbv.de/StructureDefinition/KBV_PR_ERP_Bundle|1.3';
/** Prüfnummer of the simulated PVS (format of the KBV examples). */
export const SIMULATED_PVS_PRUEFNUMMER = 'Y/400/2107/36/999';

/** Refused prescription data or an invalid bundle: the issues say what is wrong (A_18612). */
export class KbvBundleError extends Error {
  override name = 'KbvBundleError';
  constructor(
    message: string,
    readonly issues: ValidationIssue[],
  ) {
    super(`${message}: ${issues.map((i) => `${i.location}: ${i.message}`).join('; ')}`);
  }
}

// ---------------------------------------------------------------------------
// Number checks
// ---------------------------------------------------------------------------

/** LANR: 9 digits; digit 7 = (10 − Σ(d1..d6 weighted 4,9,4,9,4,9) mod 10) mod 10. */
export function isValidLanr(lanr: string): boolean {
  if (!/^[0-9]{9}$/.test(lanr)) return false;
  return lanrCheckDigit(lanr.slice(0, 6)) === Number(lanr[6]);
}

function lanrCheckDigit(six: string): number {
  let sum = 0;
  for (let i = 0; i < 6; i++) sum += Number(six[i]) * (i % 2 === 0 ? 4 : 9);
  return (10 - (sum % 10)) % 10;
}

/** PZN: 8 digits; the 8th = Σ(d_i · (i+1), i = 0..6) mod 11 (10 is not allowed). */
export function isValidPzn(pzn: string): boolean {
  if (!/^[0-9]{8}$/.test(pzn)) return false;
  let sum = 0;
  for (let i = 0; i < 7; i++) sum += Number(pzn[i]) * (i + 1);
  const check = sum % 11;
  return check !== 10 && check === Number(pzn[7]);
}

/** A number derived from `seed` with `digits` digits (deterministic persona data). */
function digitsFrom(seed: string, digits: number): string {
  const h = crypto.createHash('sha256').update(seed).digest();
  return (h.readBigUInt64BE(0) % 10n ** BigInt(digits)).toString().padStart(digits, '0');
}

// ---------------------------------------------------------------------------
// From personas
// ---------------------------------------------------------------------------

export function patientFromEgk(p: EgkPersona): KbvPatient {
  const a = p.person.address;
  return {
    kvnr: p.insurance.kvnr,
    givenName: p.person.givenName,
    surname: p.person.surname,
    ...(p.person.title ? { title: p.person.title } : {}),
    birthDate: p.person.birthDate ?? '',
    ...(a?.street && a.postalCode && a.city ? { address: { street: a.street, ...(a.houseNumber ? { houseNumber: a.houseNumber } : {}), postalCode: a.postalCode, city: a.city } } : {}),
  };
}

export function coverageFromEgk(p: EgkPersona): KbvCoverage {
  return { type: p.insurance.type, payorIk: p.insurance.iknr, payorName: p.insurance.insurer };
}

/**
 * The prescriber from an HBA persona. Personas carry no LANR: unless given, one with a valid
 * check digit is derived from the ICCSN (Fachgruppe 01), stable per persona.
 */
export function prescriberFromHba(p: HbaPersona, opts: { lanr?: string; jobTitle?: string; qualificationType?: string } = {}): KbvPrescriber {
  const six = digitsFrom(`LANR ${p.iccsn}`, 6);
  return {
    givenName: p.person.givenName,
    surname: p.person.surname,
    ...(p.person.title ? { title: p.person.title } : {}),
    lanr: opts.lanr ?? `${six}${lanrCheckDigit(six)}01`,
    qualificationType: opts.qualificationType ?? '00',
    jobTitle: opts.jobTitle ?? (p.professionItem || 'Ärztin/Arzt'),
  };
}

/**
 * The practice from an SMC-B persona: name and address of the organization; unless given, a
 * BSNR (KV region 72) is derived from the ICCSN and a phone number is set.
 */
export function organizationFromSmcb(p: SmcbPersona, opts: { bsnr?: string; phone?: string; email?: string } = {}): KbvOrganization {
  const o = p.organization;
  const m = /^(.*?)\s+([0-9]+[a-zA-Z]?)$/.exec(o.street ?? '');
  return {
    name: o.name,
    bsnr: opts.bsnr ?? `72${digitsFrom(`BSNR ${p.iccsn}`, 7)}`,
    phone: opts.phone ?? `030${digitsFrom(`TEL ${p.iccsn}`, 7)}`,
    ...(opts.email ? { email: opts.email } : {}),
    address: { street: m ? m[1] : (o.street ?? ''), ...(m ? { houseNumber: m[2] } : {}), postalCode: o.postalCode ?? '', city: o.locality ?? '' },
  };
}

// ---------------------------------------------------------------------------
// Input check
// ---------------------------------------------------------------------------

const issue = (location: string, message: string): ValidationIssue => ({ severity: 'error', location, rule: 'pvs-input', message });

/** The rules on the prescription data the FHIR packages cannot check (KBV_PR_FOR_* are not in them). */
export function prescriptionInputIssues(input: KbvPrescriptionInput): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const need = (v: unknown, loc: string) => {
    if (typeof v !== 'string' || !v.trim()) out.push(issue(loc, 'is required'));
    return typeof v === 'string' && !!v.trim();
  };
  if (!input || typeof input !== 'object') return [issue('prescription', 'no prescription data')];
  const { patient, coverage, prescriber, organization, medication } = input;
  if (!patient) out.push(issue('patient', 'is required'));
  else {
    if (need(patient.kvnr, 'patient.kvnr') && !isValidKvnr(patient.kvnr)) out.push(issue('patient.kvnr', `"${patient.kvnr}" is no valid KVNR (letter, 8 digits, check digit)`));
    need(patient.givenName, 'patient.givenName');
    need(patient.surname, 'patient.surname');
    if (need(patient.birthDate, 'patient.birthDate') && !/^\d{4}-\d{2}-\d{2}$/.test(patient.birthDate)) out.push(issue('patient.birthDate', `"${patient.birthDate}" is not YYYY-MM-DD`));
  }
  if (!coverage) out.push(issue('coverage', 'is required'));
  else {
    if (coverage.type !== 'GKV' && coverage.type !== 'PKV') out.push(issue('coverage.type', `"${String(coverage.type)}" is not GKV or PKV`));
    if (need(coverage.payorIk, 'coverage.payorIk') && !/^[0-9]{9}$/.test(coverage.payorIk)) out.push(issue('coverage.payorIk', `"${coverage.payorIk}" is no IK (9 digits)`));
    need(coverage.payorName, 'coverage.payorName');
  }
  if (!prescriber) out.push(issue('prescriber', 'is required'));
  else {
    need(prescriber.givenName, 'prescriber.givenName');
    need(prescriber.surname, 'prescriber.surname');
    need(prescriber.jobTitle, 'prescriber.jobTitle');
    if (need(prescriber.lanr, 'prescriber.lanr') && !isValidLanr(prescriber.lanr)) out.push(issue('prescriber.lanr', `"${prescriber.lanr}" is no valid LANR (9 digits, check digit at position 7)`));
  }
  if (!organization) out.push(issue('organization', 'is required'));
  else {
    need(organization.name, 'organization.name');
    need(organization.phone, 'organization.phone');
    if (need(organization.bsnr, 'organization.bsnr') && !/^[0-9]{9}$/.test(organization.bsnr)) out.push(issue('organization.bsnr', `"${organization.bsnr}" is no BSNR (9 digits)`));
    if (!organization.address) out.push(issue('organization.address', 'is required'));
    else for (const k of ['street', 'postalCode', 'city'] as const) need(organization.address[k], `organization.address.${k}`);
  }
  if (!medication) out.push(issue('medication', 'is required'));
  else if (medication.kind === 'pzn') {
    if (need(medication.pzn, 'medication.pzn') && !isValidPzn(medication.pzn)) out.push(issue('medication.pzn', `"${medication.pzn}" is no valid PZN (8 digits, check digit)`));
    need(medication.name, 'medication.name');
    const ing = medication.ingredient;
    if (!ing) out.push(issue('medication.ingredient', 'is required for a PZN prescription'));
    else {
      need(ing.name, 'medication.ingredient.name');
      if (!ing.strength || !(Number(ing.strength.value) > 0) || !ing.strength.unit) out.push(issue('medication.ingredient.strength', 'needs a positive value and a unit'));
    }
  } else if (medication.kind === 'freetext') need(medication.text, 'medication.text');
  else out.push(issue('medication.kind', 'must be pzn or freetext'));
  if (input.quantity !== undefined && (!Number.isInteger(input.quantity) || input.quantity < 1)) out.push(issue('quantity', `${input.quantity} is no positive whole number of packages`));
  if (input.authoredOn !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(input.authoredOn)) out.push(issue('authoredOn', `"${input.authoredOn}" is not YYYY-MM-DD`));
  if (input.prescriptionId !== undefined && !isValidPrescriptionId(input.prescriptionId)) out.push(issue('prescriptionId', `"${input.prescriptionId}" is no valid PrescriptionID`));
  const mvo = input.multiplePrescription;
  if (mvo) {
    if (!Number.isInteger(mvo.numerator) || !Number.isInteger(mvo.denominator)) out.push(issue('multiplePrescription', 'numerator and denominator must be whole numbers'));
    if (!/^\d{4}-\d{2}-\d{2}$/.test(mvo.start ?? '')) out.push(issue('multiplePrescription.start', `"${String(mvo.start)}" is not YYYY-MM-DD`));
    if (mvo.end !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(mvo.end)) out.push(issue('multiplePrescription.end', `"${mvo.end}" is not YYYY-MM-DD`));
  }
  return out;
}

/** Throws a KbvBundleError listing every problem of the prescription data. */
export function checkPrescriptionInput(input: KbvPrescriptionInput): void {
  const issues = prescriptionInputIssues(input);
  if (issues.length) throw new KbvBundleError('the prescription data is incomplete or invalid', issues);
}

// ---------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------

const CS = {
  prescriptionId: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId',
  legalBasis: 'https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_KBV_STATUSKENNZEICHEN',
  formularArt: 'https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_KBV_FORMULAR_ART',
  pruefnummer: 'https://fhir.kbv.de/NamingSystem/KBV_NS_FOR_Pruefnummer',
  sectionType: 'https://fhir.kbv.de/CodeSystem/KBV_CS_ERP_Section_Type',
  coPayment: 'https://fhir.kbv.de/CodeSystem/KBV_CS_FOR_StatusCoPayment',
  medicationCategory: 'https://fhir.kbv.de/CodeSystem/KBV_CS_ERP_Medication_Category',
  medicationType: 'https://fhir.kbv.de/CodeSystem/KBV_CS_ERP_Medication_Type',
  darreichungsform: 'https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_KBV_DARREICHUNGSFORM',
  pzn: 'http://fhir.de/CodeSystem/ifa/pzn',
  identifierType: 'http://fhir.de/CodeSystem/identifier-type-de-basis',
  kvid10: 'http://fhir.de/sid/gkv/kvid-10',
  v20203: 'http://terminology.hl7.org/CodeSystem/v2-0203',
  anr: 'https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ANR',
  bsnr: 'https://fhir.kbv.de/NamingSystem/KBV_NS_Base_BSNR',
  qualificationType: 'https://fhir.kbv.de/CodeSystem/KBV_CS_FOR_Qualification_Type',
  berufsbezeichnung: 'https://fhir.kbv.de/CodeSystem/KBV_CS_FOR_Berufsbezeichnung',
  versicherungsart: 'http://fhir.de/CodeSystem/versicherungsart-de-basis',
  iknr: 'http://fhir.de/sid/arge-ik/iknr',
} as const;

const SD = (name: string) => `https://fhir.kbv.de/StructureDefinition/${name}`;
const EXT = {
  legalBasis: SD('KBV_EX_FOR_Legal_basis'),
  coPayment: SD('KBV_EX_FOR_StatusCoPayment'),
  emergencyFee: SD('KBV_EX_ERP_EmergencyServicesFee'),
  ser: SD('KBV_EX_FOR_SER'),
  multiple: SD('KBV_EX_ERP_Multiple_Prescription'),
  dosageFlag: SD('KBV_EX_ERP_DosageFlag'),
  medicationType: SD('KBV_EX_Base_Medication_Type'),
  medicationCategory: SD('KBV_EX_ERP_Medication_Category'),
  vaccine: SD('KBV_EX_ERP_Medication_Vaccine'),
  normSize: 'http://fhir.de/StructureDefinition/normgroesse',
  ownName: 'http://hl7.org/fhir/StructureDefinition/humanname-own-name',
  streetName: 'http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetName',
  houseNumber: 'http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber',
  qualifier: 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-qualifier',
  specialGroup: 'http://fhir.de/StructureDefinition/gkv/besondere-personengruppe',
  dmp: 'http://fhir.de/StructureDefinition/gkv/dmp-kennzeichen',
  wop: 'http://fhir.de/StructureDefinition/gkv/wop',
  insuredStatus: 'http://fhir.de/StructureDefinition/gkv/versichertenart',
} as const;

const coding = (system: string, code: string) => ({ system, code });
const profile = (p: string) => ({ profile: [p] });

/** Today in Europe/Berlin as YYYY-MM-DD. */
export function berlinDate(d: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

function isoSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

function humanName(n: { givenName: string; surname: string; title?: string }): FhirJson {
  return {
    use: 'official',
    family: n.surname,
    _family: { extension: [{ url: EXT.ownName, valueString: n.surname }] },
    given: [n.givenName],
    ...(n.title ? { prefix: [n.title], _prefix: [{ extension: [{ url: EXT.qualifier, valueCode: 'AC' }] }] } : {}),
  };
}

function address(a: KbvAddress): FhirJson {
  const line = a.houseNumber ? `${a.street} ${a.houseNumber}` : a.street;
  return {
    type: 'both',
    line: [line],
    _line: [{ extension: [...(a.houseNumber ? [{ url: EXT.houseNumber, valueString: a.houseNumber }] : []), { url: EXT.streetName, valueString: a.street }] }],
    city: a.city,
    postalCode: a.postalCode,
    country: a.country ?? 'D',
  };
}

/** KBV_EX_ERP_Multiple_Prescription: Kennzeichen false, or true with Nummerierung, Zeitraum and ID (order of the KBV examples). */
function multiplePrescriptionExtension(mvo: KbvMultiplePrescription | undefined, uuid: () => string): FhirJson {
  if (!mvo) return { url: EXT.multiple, extension: [{ url: 'Kennzeichen', valueBoolean: false }] };
  return {
    url: EXT.multiple,
    extension: [
      { url: 'Kennzeichen', valueBoolean: true },
      { url: 'Nummerierung', valueRatio: { numerator: { value: mvo.numerator }, denominator: { value: mvo.denominator } } },
      { url: 'Zeitraum', valuePeriod: { start: mvo.start, ...(mvo.end ? { end: mvo.end } : {}) } },
      { url: 'ID', valueIdentifier: { system: 'urn:ietf:rfc:3986', value: mvo.id ?? `urn:uuid:${uuid()}` } },
    ],
  };
}

function medicationResource(id: string, m: KbvMedication): FhirJson {
  const common = [
    { url: EXT.medicationCategory, valueCoding: coding(CS.medicationCategory, '00') },
    { url: EXT.vaccine, valueBoolean: false },
  ];
  if (m.kind === 'freetext') {
    return {
      resourceType: 'Medication',
      id,
      meta: profile(SD('KBV_PR_ERP_Medication_FreeText|1.3')),
      extension: common,
      code: { coding: [coding(CS.medicationType, 'freitext')], text: m.text },
      ...(m.form ? { form: { text: m.form } } : {}),
    };
  }
  return {
    resourceType: 'Medication',
    id,
    meta: profile(SD('KBV_PR_ERP_Medication_PZN|1.3')),
    extension: [
      {
        url: EXT.medicationType,
        valueCodeableConcept: {
          coding: [{ system: 'http://snomed.info/sct', version: 'http://snomed.info/sct/11000274103/version/20240515', code: '763158003', display: 'Medicinal product (product)' }],
        },
      },
      ...common,
      ...(m.normSize ? [{ url: EXT.normSize, valueCode: m.normSize }] : []),
    ],
    code: { coding: [coding(CS.pzn, m.pzn)], text: m.name },
    form: { coding: [coding(CS.darreichungsform, m.form ?? 'TAB')] },
    ingredient: [
      {
        itemCodeableConcept: { text: m.ingredient.name },
        strength: {
          numerator: { value: m.ingredient.strength.value, unit: m.ingredient.strength.unit },
          denominator: { value: m.ingredient.per?.value ?? 1, unit: m.ingredient.per?.unit ?? 'Stück' },
        },
      },
    ],
    ...(m.amount
      ? { amount: { numerator: { extension: [{ url: SD('KBV_EX_ERP_Medication_PackagingSize'), valueString: String(m.amount.value) }], unit: m.amount.unit }, denominator: { value: 1 } } }
      : {}),
  };
}

/**
 * The KBV bundle for one prescription. The data is checked first (KbvBundleError); the result
 * is not yet validated against the profiles (validateKbvBundle).
 */
export function buildKbvBundle(input: KbvPrescriptionInput, opts: BuildOptions = {}): FhirResource {
  checkPrescriptionInput(input);
  const uuid = opts.uuid ?? (() => crypto.randomUUID());
  const now = opts.now ?? new Date();
  const ids = { composition: uuid(), request: uuid(), medication: uuid(), patient: uuid(), practitioner: uuid(), organization: uuid(), coverage: uuid() };
  const ref = (id: string) => ({ reference: `urn:uuid:${id}` });
  const { patient, coverage, prescriber, organization, medication } = input;
  const gkv = coverage.type === 'GKV';

  const composition: FhirJson = {
    resourceType: 'Composition',
    id: ids.composition,
    meta: profile(SD('KBV_PR_ERP_Composition|1.3')),
    extension: [{ url: EXT.legalBasis, valueCoding: coding(CS.legalBasis, '00') }],
    status: 'final',
    type: { coding: [coding(CS.formularArt, 'e16A')] },
    subject: ref(ids.patient),
    date: isoSeconds(now),
    author: [
      { ...ref(ids.practitioner), type: 'Practitioner' },
      { type: 'Device', identifier: { system: CS.pruefnummer, value: opts.pruefnummer ?? SIMULATED_PVS_PRUEFNUMMER } },
    ],
    title: 'elektronische Arzneimittelverordnung',
    custodian: ref(ids.organization),
    section: [
      { code: { coding: [coding(CS.sectionType, 'Prescription')] }, entry: [ref(ids.request)] },
      { code: { coding: [coding(CS.sectionType, 'Coverage')] }, entry: [ref(ids.coverage)] },
    ],
  };

  const request: FhirJson = {
    resourceType: 'MedicationRequest',
    id: ids.request,
    meta: profile(SD('KBV_PR_ERP_Prescription|1.3')),
    extension: [
      ...(gkv ? [{ url: EXT.coPayment, valueCoding: coding(CS.coPayment, input.statusCoPayment ?? '0') }] : []),
      { url: EXT.emergencyFee, valueBoolean: input.emergencyServicesFee ?? false },
      { url: EXT.ser, valueBoolean: false },
      multiplePrescriptionExtension(input.multiplePrescription, uuid),
    ],
    status: 'active',
    intent: 'order',
    medicationReference: ref(ids.medication),
    subject: ref(ids.patient),
    authoredOn: input.authoredOn ?? berlinDate(now),
    requester: ref(ids.practitioner),
    insurance: [ref(ids.coverage)],
    dosageInstruction: [
      input.dosage
        ? { extension: [{ url: EXT.dosageFlag, valueBoolean: true }], text: input.dosage }
        : { extension: [{ url: EXT.dosageFlag, valueBoolean: false }] },
    ],
    dispenseRequest: { quantity: { value: input.quantity ?? 1, unit: 'Packung' } },
    substitution: { allowedBoolean: input.substitutionAllowed ?? true },
  };

  const patientRes: FhirJson = {
    resourceType: 'Patient',
    id: ids.patient,
    meta: profile(SD('KBV_PR_FOR_Patient|1.2')),
    identifier: [{ type: { coding: [coding(CS.identifierType, 'KVZ10')] }, system: CS.kvid10, value: patient.kvnr }],
    name: [humanName(patient)],
    birthDate: patient.birthDate,
    ...(patient.address ? { address: [address(patient.address)] } : {}),
  };

  const practitioner: FhirJson = {
    resourceType: 'Practitioner',
    id: ids.practitioner,
    meta: profile(SD('KBV_PR_FOR_Practitioner|1.2')),
    identifier: [{ type: { coding: [coding(CS.v20203, 'LANR')] }, system: CS.anr, value: prescriber.lanr }],
    name: [humanName(prescriber)],
    qualification: [
      { code: { coding: [coding(CS.qualificationType, prescriber.qualificationType ?? '00')] } },
      { code: { coding: [coding(CS.berufsbezeichnung, 'Berufsbezeichnung')], text: prescriber.jobTitle } },
    ],
  };

  const organizationRes: FhirJson = {
    resourceType: 'Organization',
    id: ids.organization,
    meta: profile(SD('KBV_PR_FOR_Organization|1.2')),
    identifier: [{ type: { coding: [coding(CS.v20203, 'BSNR')] }, system: CS.bsnr, value: organization.bsnr }],
    name: organization.name,
    telecom: [{ system: 'phone', value: organization.phone }, ...(organization.email ? [{ system: 'email', value: organization.email }] : [])],
    address: [address(organization.address)],
  };

  const coverageRes: FhirJson = {
    resourceType: 'Coverage',
    id: ids.coverage,
    meta: profile(SD('KBV_PR_FOR_Coverage|1.2')),
    extension: [
      { url: EXT.specialGroup, valueCoding: coding('https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_KBV_PERSONENGRUPPE', coverage.specialGroup ?? '00') },
      { url: EXT.dmp, valueCoding: coding('https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_KBV_DMP', coverage.dmp ?? '00') },
      { url: EXT.wop, valueCoding: coding('https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_ITA_WOP', coverage.wop ?? '72') },
      { url: EXT.insuredStatus, valueCoding: coding('https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_KBV_VERSICHERTENSTATUS', coverage.insuredStatus ?? '1') },
    ],
    status: 'active',
    type: { coding: [coding(CS.versicherungsart, coverage.type)] },
    beneficiary: ref(ids.patient),
    payor: [{ identifier: { system: CS.iknr, value: coverage.payorIk }, display: coverage.payorName }],
  };

  const entry = (id: string, resource: FhirJson) => ({ fullUrl: `urn:uuid:${id}`, resource });
  return {
    resourceType: 'Bundle',
    id: uuid(),
    meta: profile(KBV_BUNDLE_PROFILE),
    ...(input.prescriptionId ? { identifier: { system: CS.prescriptionId, value: input.prescriptionId } } : {}),
    type: 'document',
    timestamp: isoSeconds(now),
    entry: [
      entry(ids.composition, composition),
      entry(ids.request, request),
      entry(ids.medication, medicationResource(ids.medication, medication)),
      entry(ids.patient, patientRes),
      entry(ids.practitioner, practitioner),
      entry(ids.organization, organizationRes),
      entry(ids.coverage, coverageRes),
    ],
  };
}

/** The bundle with the Fachdienst's PrescriptionID as Bundle.identifier (A_18544); a new object. */
export function withPrescriptionId(bundle: FhirResource, prescriptionId: string): FhirResource {
  assertPrescriptionId(prescriptionId);
  const { identifier: _old, ...rest } = bundle as FhirResource & { identifier?: unknown };
  void _old;
  const out: FhirResource = { resourceType: 'Bundle' };
  for (const [k, v] of Object.entries(rest)) {
    out[k] = v;
    if (k === 'meta') out.identifier = { system: CS.prescriptionId, value: prescriptionId };
  }
  return out;
}

/**
 * Errors and warnings of the bundle: FHIR validation against KBV_PR_ERP_Bundle|1.3 and its
 * ERP profiles, plus the PrescriptionID (present, well-formed, flow type matching the coverage:
 * 160/169 GKV, 200/209 PKV).
 */
export function validateKbvBundle(bundle: FhirResource): ValidationIssue[] {
  const issues = validateResource(bundle);
  const pid = (bundle.identifier as FhirJson | undefined)?.value;
  if (typeof pid !== 'string' || !isValidPrescriptionId(pid)) {
    issues.push(issue('Bundle.identifier', `the bundle carries no valid PrescriptionID (${JSON.stringify(pid)})`));
  } else {
    const cov = (bundle.entry as FhirJson[] | undefined)?.map((e) => e.resource as FhirJson).find((r) => r?.resourceType === 'Coverage');
    const type = ((cov?.type as FhirJson | undefined)?.coding as FhirJson[] | undefined)?.[0]?.code;
    const flow = flowTypeOf(pid);
    const fits = type === 'PKV' ? ['200', '209'] : ['160', '169'];
    if (type && !fits.includes(flow)) issues.push(issue('Bundle.identifier', `flow type ${flow} of ${pid} does not fit a ${String(type)} coverage (${fits.join('/')})`));
  }
  return issues;
}

/** Throws a KbvBundleError with the errors when the bundle is not valid (A_18612). */
export function assertValidKbvBundle(bundle: FhirResource): void {
  const errors = errorsOf(validateKbvBundle(bundle));
  if (errors.length) throw new KbvBundleError('the KBV bundle is not valid', errors);
}

/** The bundle as the XML document the HBA signs (UTF-8, with XML declaration). */
export function serializeKbvBundle(bundle: FhirResource): Buffer {
  return Buffer.from(serializeFhirXml(bundle, { declaration: true }), 'utf8');
}
