/**
 * TI certificate profiles of the simulated PKI: which CA issues a certificate type, its key usages,
 * policies, admission (role OID + Telematik-ID) and subject layout.
 *
 * Layouts follow the real gematik test certificates (shared/reference/card-images, GemLibPki test data):
 * - HBA: C=DE plus one multi-valued RDN { GN, SN, CN, serialNumber } (serialNumber = card number);
 *   admission with authority "C=DE, O=<chamber>", profession item/OID and registrationNumber = Telematik-ID.
 * - SMC-B: C=DE, O=<number/name>, SN, GN, CN=<institution>; admission with the institution OID and Telematik-ID.
 * - eGK: C=DE, O=<insurer>, OU=<IK>, OU=<KVNR>, SN, GN, CN; admission "Versicherte/-r" 1.2.276.0.76.4.49.
 * - components (Fachdienst, IDP, TLS): C=DE, O=<operator>, CN=<service name>.
 */
import * as crypto from 'node:crypto';
import { OID, type DistinguishedName, type KeyUsageName, type NameAttribute } from '../lib/x509';
import { CERT_TYPE, INSTITUTION, POLICY, PROFESSION, TECHNICAL_ROLE } from './oids';

export type CaName = 'root' | 'hba-qca' | 'hba-ca' | 'smcb-ca' | 'egk-ca' | 'komp-ca' | 'tsl-ca';

export const ISSUING_CA_NAMES: CaName[] = ['hba-qca', 'hba-ca', 'smcb-ca', 'egk-ca', 'komp-ca', 'tsl-ca'];

export interface SubjectFields {
  commonName?: string;
  givenName?: string;
  surname?: string;
  organization?: string;
  organizationalUnit?: string | string[];
  /** subject serialNumber attribute (HBA: card number). */
  serialNumber?: string;
  country?: string;
  locality?: string;
  postalCode?: string;
  street?: string;
  title?: string;
}

import type { RevocationReasonName } from '../lib/ocsp';

export { REVOCATION_REASONS, type RevocationReasonName } from '../lib/ocsp';

export interface IssueRequest {
  /** Profile name, e.g. "C.HP.QES", "C.HCI.AUT", "C.CH.AUT", "C.FD.SIG", "TLS-SERVER". */
  profile: string;
  subject?: SubjectFields;
  /** Telematik-ID (registrationNumber in the admission); generated when absent for HBA / SMC-B. */
  /** Registration number in the admission; generated when absent, left out when null. */
  telematikId?: string | null;
  /** Override the profession / institution / role OID of the admission (negative tests: wrong role). */
  professionOid?: string;
  /** Override the profession text of the admission. */
  professionItem?: string;
  /** eGK: KVNR (10 characters); generated with a valid check digit when absent. */
  kvnr?: string;
  /** eGK: IK of the insurer (9 digits). */
  iknr?: string;
  /** TLS / component certificates: subjectAltName entries. */
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Validity window; default: now - 1 h … now + validityDays (default 5 years). */
  notBefore?: Date | string;
  notAfter?: Date | string;
  validityDays?: number;
  /** Initial revocation status (default good). */
  status?: 'good' | 'revoked';
  revocationReason?: RevocationReasonName | number;
  revocationTime?: Date | string;
  /** Certify an existing key instead of generating one (then privateKey/privateKeyPem are absent). */
  publicKey?: crypto.KeyObject;
  /** OCSP URL for the AuthorityInfoAccess extension (default: the PKI's current OCSP URL). */
  ocspUrl?: string;
}

export interface ProfileContext {
  request: IssueRequest;
  random: () => string;
}

export interface ProfileDefinition {
  name: string;
  description: string;
  ca: CaName;
  keyUsage: KeyUsageName[];
  extKeyUsage: string[];
  policies: string[];
  qcStatements?: string[];
  /** Default admission role; absent: no admission extension. */
  admissionRole?: { oid: string; item: string };
  /** Admission authority shown on HBA certificates. */
  admissionAuthority?: DistinguishedName;
  /** Whether the admission carries a registration number (Telematik-ID); default prefix for generated IDs. */
  telematikIdPrefix?: string;
  /** TLS server / component certificates take subjectAltName entries. */
  subjectAltName?: boolean;
  subject(ctx: ProfileContext, telematikId: string | undefined): DistinguishedName;
}

export class ProfileError extends Error {
  override name = 'ProfileError';
}

const attr = (type: string, value: string | undefined): NameAttribute[] => (value ? [{ type, value }] : []);

function ous(s: SubjectFields): NameAttribute[] {
  const list = s.organizationalUnit === undefined ? [] : Array.isArray(s.organizationalUnit) ? s.organizationalUnit : [s.organizationalUnit];
  return list.map((v) => ({ type: 'OU', value: v }));
}

function hbaSubject(ctx: ProfileContext): DistinguishedName {
  const s = ctx.request.subject ?? {};
  const givenName = s.givenName ?? 'Hanna';
  const surname = s.surname ?? 'Ebert';
  const rdn: NameAttribute[] = [
    { type: 'GN', value: givenName },
    { type: 'SN', value: surname },
    { type: 'CN', value: s.commonName ?? `${givenName} ${surname}` },
    { type: 'serialNumber', value: s.serialNumber ?? `80276${ctx.random().slice(0, 15)}` },
  ];
  if (s.title) rdn.push({ type: 'title', value: s.title });
  return [{ type: 'C', value: s.country ?? 'DE' }, rdn];
}

function smcbSubject(ctx: ProfileContext): DistinguishedName {
  const s = ctx.request.subject ?? {};
  return [
    { type: 'C', value: s.country ?? 'DE' },
    ...attr('L', s.locality),
    ...attr('postalCode', s.postalCode),
    ...attr('street', s.street),
    { type: 'O', value: s.organization ?? `${ctx.random().slice(0, 9)} NOT-VALID` },
    ...ous(s),
    ...attr('SN', s.surname),
    ...attr('GN', s.givenName),
    { type: 'CN', value: s.commonName ?? 'Praxis Dr. Hanna Ebert TEST-ONLY' },
  ];
}

function egkSubject(ctx: ProfileContext): DistinguishedName {
  const s = ctx.request.subject ?? {};
  const givenName = s.givenName ?? 'Jonas';
  const surname = s.surname ?? 'Keller';
  const iknr = ctx.request.iknr ?? '109500969';
  const kvnr = ctx.request.kvnr ?? makeKvnr(ctx.random);
  if (!/^\d{9}$/.test(iknr)) throw new ProfileError(`iknr must be 9 digits, got "${iknr}"`);
  if (!/^[A-Z]\d{9}$/.test(kvnr)) throw new ProfileError(`kvnr must be a capital letter and 9 digits, got "${kvnr}"`);
  return [
    { type: 'C', value: s.country ?? 'DE' },
    { type: 'O', value: s.organization ?? 'Test GKV-SV NOT-VALID' },
    { type: 'OU', value: iknr },
    { type: 'OU', value: kvnr },
    { type: 'SN', value: surname },
    { type: 'GN', value: givenName },
    { type: 'CN', value: s.commonName ?? `${givenName} ${surname}` },
  ];
}

function egkAutnSubject(ctx: ProfileContext): DistinguishedName {
  const s = ctx.request.subject ?? {};
  const iknr = ctx.request.iknr ?? '109500969';
  return [
    { type: 'C', value: s.country ?? 'DE' },
    { type: 'O', value: s.organization ?? 'Test GKV-SV NOT-VALID' },
    { type: 'OU', value: iknr },
    { type: 'CN', value: s.commonName ?? ctx.random().slice(0, 20) },
  ];
}

function componentSubject(defaultCn: string, defaultO = 'ti-harness simulated TI NOT-VALID') {
  return (ctx: ProfileContext): DistinguishedName => {
    const s = ctx.request.subject ?? {};
    const cn = s.commonName ?? ctx.request.dnsNames?.[0] ?? defaultCn;
    return [
      { type: 'C', value: s.country ?? 'DE' },
      ...attr('L', s.locality),
      { type: 'O', value: s.organization ?? defaultO },
      ...ous(s),
      { type: 'CN', value: cn },
    ];
  };
}

const CHAMBER_ADMISSION: DistinguishedName = [
  { type: 'C', value: 'DE' },
  { type: 'O', value: 'Ärztekammer simuliert' },
];

/** The TI profiles the simulated PKI can issue. */
export const PROFILES: Record<string, ProfileDefinition> = {
  'C.HP.QES': {
    name: 'C.HP.QES',
    description: 'HBA qualified signature certificate (QES)',
    ca: 'hba-qca',
    keyUsage: ['nonRepudiation'],
    extKeyUsage: [],
    policies: [CERT_TYPE.hbaQes, POLICY.qcpNaturalQscd, POLICY.hbaCp],
    qcStatements: [OID.qcsQcCompliance, OID.qcsQcSscd],
    admissionRole: PROFESSION.arzt,
    admissionAuthority: CHAMBER_ADMISSION,
    telematikIdPrefix: '1-HBA-SIM-',
    subject: hbaSubject,
  },
  'C.HP.AUT': {
    name: 'C.HP.AUT',
    description: 'HBA authentication certificate',
    ca: 'hba-ca',
    keyUsage: ['digitalSignature', 'keyAgreement'],
    extKeyUsage: [OID.kpClientAuth, OID.kpEmailProtection],
    policies: [CERT_TYPE.hbaAut, POLICY.hbaCp],
    admissionRole: PROFESSION.arzt,
    admissionAuthority: CHAMBER_ADMISSION,
    telematikIdPrefix: '1-HBA-SIM-',
    subject: hbaSubject,
  },
  'C.HP.ENC': {
    name: 'C.HP.ENC',
    description: 'HBA encryption certificate',
    ca: 'hba-ca',
    keyUsage: ['keyAgreement'],
    extKeyUsage: [],
    policies: [CERT_TYPE.hbaEnc, POLICY.hbaCp],
    admissionRole: PROFESSION.arzt,
    admissionAuthority: CHAMBER_ADMISSION,
    telematikIdPrefix: '1-HBA-SIM-',
    subject: hbaSubject,
  },
  'C.HCI.AUT': {
    name: 'C.HCI.AUT',
    description: 'SMC-B authentication certificate',
    ca: 'smcb-ca',
    keyUsage: ['digitalSignature'],
    extKeyUsage: [OID.kpClientAuth],
    policies: [POLICY.gemOrCp, CERT_TYPE.smcbAut],
    admissionRole: INSTITUTION.praxisArzt,
    telematikIdPrefix: '1-SMC-B-SIM-',
    subject: smcbSubject,
  },
  'C.HCI.ENC': {
    name: 'C.HCI.ENC',
    description: 'SMC-B encryption certificate',
    ca: 'smcb-ca',
    keyUsage: ['keyAgreement'],
    extKeyUsage: [],
    policies: [POLICY.gemOrCp, CERT_TYPE.smcbEnc],
    admissionRole: INSTITUTION.praxisArzt,
    telematikIdPrefix: '1-SMC-B-SIM-',
    subject: smcbSubject,
  },
  'C.HCI.OSIG': {
    name: 'C.HCI.OSIG',
    description: 'SMC-B organisational signature certificate',
    ca: 'smcb-ca',
    keyUsage: ['nonRepudiation'],
    extKeyUsage: [],
    policies: [POLICY.gemOrCp, CERT_TYPE.smcbOsig],
    admissionRole: INSTITUTION.praxisArzt,
    telematikIdPrefix: '1-SMC-B-SIM-',
    subject: smcbSubject,
  },
  'C.CH.AUT': {
    name: 'C.CH.AUT',
    description: 'eGK authentication certificate',
    ca: 'egk-ca',
    keyUsage: ['digitalSignature'],
    extKeyUsage: [],
    policies: [POLICY.gemOrCp, CERT_TYPE.egkAut],
    admissionRole: PROFESSION.versicherter,
    subject: egkSubject,
  },
  'C.CH.AUTN': {
    name: 'C.CH.AUTN',
    description: 'eGK technical (pseudonymous) authentication certificate',
    ca: 'egk-ca',
    keyUsage: ['digitalSignature'],
    extKeyUsage: [OID.kpClientAuth],
    policies: [POLICY.gemOrCp, CERT_TYPE.egkAutn],
    admissionRole: PROFESSION.versicherter,
    subject: egkAutnSubject,
  },
  'C.CH.ENC': {
    name: 'C.CH.ENC',
    description: 'eGK encryption certificate',
    ca: 'egk-ca',
    keyUsage: ['keyAgreement'],
    extKeyUsage: [],
    policies: [POLICY.gemOrCp, CERT_TYPE.egkEnc],
    admissionRole: PROFESSION.versicherter,
    subject: egkSubject,
  },
  'C.FD.SIG': {
    name: 'C.FD.SIG',
    description: 'Fachdienst signature certificate (E-Rezept-Fachdienst signer)',
    ca: 'komp-ca',
    keyUsage: ['digitalSignature'],
    extKeyUsage: [],
    policies: [POLICY.gemOrCp, CERT_TYPE.fdSig],
    admissionRole: TECHNICAL_ROLE.erezept,
    subject: componentSubject('erp-fachdienst.ti-harness.sim'),
  },
  'C.FD.OSIG': {
    name: 'C.FD.OSIG',
    description: 'Fachdienst organisational signature certificate (E-Rezept receipts)',
    ca: 'komp-ca',
    keyUsage: ['nonRepudiation'],
    extKeyUsage: [],
    policies: [POLICY.gemOrCp, CERT_TYPE.fdOsig],
    admissionRole: TECHNICAL_ROLE.erezept,
    subject: componentSubject('erp-fachdienst.ti-harness.sim'),
  },
  'C.FD.ENC': {
    name: 'C.FD.ENC',
    description: 'Fachdienst encryption certificate (E-Rezept VAU)',
    ca: 'komp-ca',
    keyUsage: ['keyAgreement'],
    extKeyUsage: [],
    policies: [POLICY.gemOrCp, CERT_TYPE.fdEnc],
    admissionRole: TECHNICAL_ROLE.erpVau,
    subject: componentSubject('erp-vau.ti-harness.sim'),
  },
  'C.FD.AUT': {
    name: 'C.FD.AUT',
    description: 'Fachdienst authentication certificate (E-Rezept VAU)',
    ca: 'komp-ca',
    keyUsage: ['digitalSignature'],
    extKeyUsage: [],
    policies: [POLICY.gemOrCp, CERT_TYPE.fdAut],
    admissionRole: TECHNICAL_ROLE.erpVau,
    subject: componentSubject('erp-vau.ti-harness.sim'),
  },
  'C.IDP.SIG': {
    name: 'C.IDP.SIG',
    description: 'IDP signature certificate (a C.FD.SIG with role oid_idpd)',
    ca: 'komp-ca',
    keyUsage: ['digitalSignature'],
    extKeyUsage: [],
    policies: [POLICY.gemOrCp, CERT_TYPE.fdSig],
    admissionRole: TECHNICAL_ROLE.idpd,
    subject: componentSubject('idp.ti-harness.sim'),
  },
  'C.FD.TLS-S': {
    name: 'C.FD.TLS-S',
    description: 'Fachdienst TLS server certificate',
    ca: 'komp-ca',
    keyUsage: ['digitalSignature'],
    extKeyUsage: [OID.kpServerAuth],
    policies: [POLICY.gemOrCp, CERT_TYPE.fdTlsS],
    admissionRole: TECHNICAL_ROLE.erezept,
    subjectAltName: true,
    subject: componentSubject('localhost'),
  },
  'C.AK.AUT': {
    name: 'C.AK.AUT',
    description: 'Konnektor (Anwendungskonnektor) authentication / TLS certificate',
    ca: 'komp-ca',
    keyUsage: ['digitalSignature'],
    extKeyUsage: [OID.kpClientAuth, OID.kpServerAuth],
    policies: [POLICY.gemOrCp, CERT_TYPE.akAut],
    admissionRole: TECHNICAL_ROLE.konnektor,
    subjectAltName: true,
    subject: componentSubject('konnektor.ti-harness.sim'),
  },
  'TLS-SERVER': {
    name: 'TLS-SERVER',
    description: 'generic TLS server certificate for the simulators (serverAuth, subjectAltName)',
    ca: 'komp-ca',
    keyUsage: ['digitalSignature'],
    extKeyUsage: [OID.kpServerAuth],
    policies: [POLICY.gemOrCp, CERT_TYPE.fdTlsS],
    subjectAltName: true,
    subject: componentSubject('localhost'),
  },
  'TLS-CLIENT': {
    name: 'TLS-CLIENT',
    description: 'generic TLS client certificate (clientAuth)',
    ca: 'komp-ca',
    keyUsage: ['digitalSignature'],
    extKeyUsage: [OID.kpClientAuth],
    policies: [POLICY.gemOrCp, CERT_TYPE.fdTlsC],
    subjectAltName: true,
    subject: componentSubject('client.ti-harness.sim'),
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES);

export function getProfile(name: string): ProfileDefinition {
  const p = Object.prototype.hasOwnProperty.call(PROFILES, name) ? PROFILES[name] : undefined;
  if (!p) throw new ProfileError(`unknown profile "${name}" (known: ${PROFILE_NAMES.join(', ')})`);
  return p;
}

/**
 * A KVNR with a valid check digit: letter + 8 digits + check digit. The letter becomes its two-digit
 * alphabet position; the ten digits are weighted 1,2,1,2,…, two-digit products are replaced by their
 * digit sum, and the check digit is the sum modulo 10 (checked against the real eGK's X110540756).
 */
export function makeKvnr(random: () => string = () => crypto.randomBytes(8).toString('hex')): string {
  const digits = random()
    .replace(/[^0-9]/g, '')
    .padEnd(8, '7')
    .slice(0, 8);
  const letter = String.fromCharCode(65 + (parseInt(random().slice(0, 2), 16) % 26));
  return `${letter}${digits}${kvnrCheckDigit(letter, digits)}`;
}

export function kvnrCheckDigit(letter: string, eightDigits: string): number {
  const pos = String(letter.charCodeAt(0) - 64).padStart(2, '0');
  const all = pos + eightDigits;
  let sum = 0;
  for (let i = 0; i < all.length; i++) {
    let p = Number(all[i]) * (i % 2 === 0 ? 1 : 2);
    if (p > 9) p = Math.floor(p / 10) + (p % 10);
    sum += p;
  }
  return sum % 10;
}
