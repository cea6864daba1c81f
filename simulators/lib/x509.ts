/**
 * X.509 certificate building and parsing for the simulated TI (shared by all simulators).
 *
 * Certificates are built as TBSCertificate structures with @peculiar/asn1-x509 and signed
 * with node:crypto (ecdsa-with-SHA256 over brainpoolP256r1, which WebCrypto does not know).
 * TI-specific extensions (admission 1.3.36.8.3.3, qcStatements) are modelled here too.
 */
import * as crypto from 'node:crypto';
import { AsnArray, AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import {
  AccessDescription,
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CertificatePolicies,
  DirectoryString,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  PolicyInformation,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';

// ---------------------------------------------------------------------------
// Object identifiers
// ---------------------------------------------------------------------------

export const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecPublicKey: '1.2.840.10045.2.1',
  brainpoolP256r1: '1.3.36.3.3.2.8.1.1.7',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  // extensions
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  qcStatements: '1.3.6.1.5.5.7.1.3',
  ocspAccessMethod: '1.3.6.1.5.5.7.48.1',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  /** ISIS-MTT / Common PKI admission (professional information). */
  admission: '1.3.36.8.3.3',
  // extended key usages
  kpServerAuth: '1.3.6.1.5.5.7.3.1',
  kpClientAuth: '1.3.6.1.5.5.7.3.2',
  kpEmailProtection: '1.3.6.1.5.5.7.3.4',
  kpOcspSigning: '1.3.6.1.5.5.7.3.9',
  /** ETSI id-tsl-kp-tslSigning. */
  kpTslSigning: '0.4.0.2231.3.0',
  // qcStatements (ETSI EN 319 412-5)
  qcsQcCompliance: '0.4.0.1862.1.1',
  qcsQcSscd: '0.4.0.1862.1.4',
  // ETSI policy for qualified certificates on a QSCD (QCP-n-qscd)
  qcpNaturalQscd: '0.4.0.194112.1.2',
} as const;

/** Attribute types of distinguished names (short names as openssl prints them). */
export const NAME_ATTRIBUTE_OIDS: Record<string, string> = {
  C: '2.5.4.6',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
  SN: '2.5.4.4',
  GN: '2.5.4.42',
  serialNumber: '2.5.4.5',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  street: '2.5.4.9',
  postalCode: '2.5.4.17',
  title: '2.5.4.12',
};
const NAME_ATTRIBUTE_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(NAME_ATTRIBUTE_OIDS).map(([k, v]) => [v, k]),
);
/** Attributes encoded as PrintableString (RFC 5280 requires it for C and serialNumber). */
const PRINTABLE_ATTRIBUTES = new Set([NAME_ATTRIBUTE_OIDS.C, NAME_ATTRIBUTE_OIDS.serialNumber]);

// ---------------------------------------------------------------------------
// PEM
// ---------------------------------------------------------------------------

export function toPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** All DER blocks of the given label (default: any label) in a PEM text. */
export function pemBlocks(pem: string, label?: string): Buffer[] {
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  const out: Buffer[] = [];
  for (let m = re.exec(pem); m; m = re.exec(pem)) {
    if (label && m[1] !== label) continue;
    out.push(Buffer.from(m[2].replace(/\s+/g, ''), 'base64'));
  }
  return out;
}

/** The first block of a PEM text as DER; throws if there is none. */
export function pemToDer(pem: string, label?: string): Buffer {
  const [first] = pemBlocks(pem, label);
  if (!first) throw new Error(`no PEM block${label ? ` "${label}"` : ''} found`);
  return first;
}

/** Accepts DER or PEM (string or Buffer) and returns DER. */
export function asDer(input: Buffer | string): Buffer {
  if (typeof input === 'string') return pemToDer(input);
  if (input.length > 0 && input[0] === 0x30) return input;
  return pemToDer(input.toString('latin1'));
}

// ---------------------------------------------------------------------------
// Distinguished names
// ---------------------------------------------------------------------------

export interface NameAttribute {
  /** Short name (C, O, OU, CN, GN, SN, serialNumber, L, ST, …) or a dotted OID. */
  type: string;
  value: string;
}

/** An RDN sequence in encoding order; an inner array is one multi-valued RDN (as on the HBA). */
export type DistinguishedName = Array<NameAttribute | NameAttribute[]>;

function attributeOid(type: string): string {
  if (/^\d+(\.\d+)+$/.test(type)) return type;
  const oid = NAME_ATTRIBUTE_OIDS[type];
  if (!oid) throw new Error(`unknown name attribute type "${type}"`);
  return oid;
}

export function buildName(dn: DistinguishedName): Name {
  const rdns = dn.map((entry) => {
    const attrs = (Array.isArray(entry) ? entry : [entry]).map((a) => {
      const type = attributeOid(a.type);
      const value = PRINTABLE_ATTRIBUTES.has(type)
        ? new AttributeValue({ printableString: a.value })
        : new AttributeValue({ utf8String: a.value });
      return new AttributeTypeAndValue({ type, value });
    });
    // DER: the members of a SET OF are sorted by their encodings.
    attrs.sort((x, y) => Buffer.compare(Buffer.from(AsnConvert.serialize(x)), Buffer.from(AsnConvert.serialize(y))));
    return new RelativeDistinguishedName(attrs);
  });
  return new Name(rdns);
}

export function encodeName(dn: DistinguishedName): Buffer {
  return Buffer.from(AsnConvert.serialize(buildName(dn)));
}

/** Flat list of the attributes of a name in encoding order (multi-valued RDNs flattened). */
export function nameAttributes(name: Name): NameAttribute[] {
  const out: NameAttribute[] = [];
  for (const rdn of name) {
    for (const atv of rdn) {
      out.push({ type: NAME_ATTRIBUTE_NAMES[atv.type] ?? atv.type, value: atv.value.toString() });
    }
  }
  return out;
}

/** A readable one-line form, e.g. "C=DE, O=…, CN=…" (multi-valued RDN members joined with " + "). */
export function formatName(name: Name): string {
  return Array.from(name)
    .map((rdn) =>
      Array.from(rdn)
        .map((atv) => `${NAME_ATTRIBUTE_NAMES[atv.type] ?? atv.type}=${atv.value.toString()}`)
        .join(' + '),
    )
    .join(', ');
}

// ---------------------------------------------------------------------------
// Admission (ISIS-MTT / Common PKI, OID 1.3.36.8.3.3)
//
// AdmissionSyntax ::= SEQUENCE { admissionAuthority GeneralName OPTIONAL,
//                                contentsOfAdmissions SEQUENCE OF Admissions }
// Admissions ::= SEQUENCE { admissionAuthority [0] EXPLICIT GeneralName OPTIONAL,
//                           namingAuthority [1] EXPLICIT NamingAuthority OPTIONAL,
//                           professionInfos SEQUENCE OF ProfessionInfo }
// ProfessionInfo ::= SEQUENCE { namingAuthority [0] EXPLICIT NamingAuthority OPTIONAL,
//                               professionItems SEQUENCE OF DirectoryString,
//                               professionOIDs SEQUENCE OF OBJECT IDENTIFIER OPTIONAL,
//                               registrationNumber PrintableString OPTIONAL,
//                               addProfessionInfo OCTET STRING OPTIONAL }
// ---------------------------------------------------------------------------

@AsnType({ type: AsnTypeTypes.Sequence, itemType: DirectoryString })
class DirectoryStrings extends AsnArray<DirectoryString> {}

@AsnType({ type: AsnTypeTypes.Sequence, itemType: AsnPropTypes.ObjectIdentifier })
class ObjectIdentifiers extends AsnArray<string> {}

class NamingAuthority {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier, optional: true })
  namingAuthorityId?: string;
  @AsnProp({ type: AsnPropTypes.IA5String, optional: true })
  namingAuthorityUrl?: string;
  @AsnProp({ type: DirectoryString, optional: true })
  namingAuthorityText?: DirectoryString;
}

export class ProfessionInfo {
  @AsnProp({ type: NamingAuthority, context: 0, optional: true })
  namingAuthority?: NamingAuthority;
  @AsnProp({ type: DirectoryStrings })
  professionItems = new DirectoryStrings();
  @AsnProp({ type: ObjectIdentifiers, optional: true })
  professionOids?: ObjectIdentifiers;
  @AsnProp({ type: AsnPropTypes.PrintableString, optional: true })
  registrationNumber?: string;
  @AsnProp({ type: OctetString, optional: true })
  addProfessionInfo?: OctetString;
}

@AsnType({ type: AsnTypeTypes.Sequence, itemType: ProfessionInfo })
class ProfessionInfos extends AsnArray<ProfessionInfo> {}

export class Admissions {
  @AsnProp({ type: GeneralName, context: 0, optional: true })
  admissionAuthority?: GeneralName;
  @AsnProp({ type: NamingAuthority, context: 1, optional: true })
  namingAuthority?: NamingAuthority;
  @AsnProp({ type: ProfessionInfos })
  professionInfos = new ProfessionInfos();
}

@AsnType({ type: AsnTypeTypes.Sequence, itemType: Admissions })
class AdmissionsList extends AsnArray<Admissions> {}

export class AdmissionSyntax {
  @AsnProp({ type: GeneralName, optional: true })
  admissionAuthority?: GeneralName;
  @AsnProp({ type: AdmissionsList })
  contentsOfAdmissions = new AdmissionsList();
}

/** The part of the admission extension the TI uses (one admission, one profession info). */
export interface AdmissionInfo {
  /** Directory name of the admission authority (e.g. C=DE, O=gematik Berlin); optional. */
  admissionAuthority?: DistinguishedName;
  /** Profession texts, e.g. "Ärztin/Arzt". */
  professionItems: string[];
  /** Profession / role OIDs, e.g. 1.2.276.0.76.4.30 (Arzt). */
  professionOids: string[];
  /** Registration number: the Telematik-ID in the TI. */
  registrationNumber?: string;
}

export function encodeAdmission(info: AdmissionInfo): Buffer {
  const pi = new ProfessionInfo();
  pi.professionItems = new DirectoryStrings(info.professionItems.map((t) => new DirectoryString({ utf8String: t })));
  if (info.professionOids.length) pi.professionOids = new ObjectIdentifiers(info.professionOids);
  if (info.registrationNumber !== undefined) pi.registrationNumber = info.registrationNumber;
  const adm = new Admissions();
  adm.professionInfos = new ProfessionInfos([pi]);
  const syntax = new AdmissionSyntax();
  if (info.admissionAuthority) {
    syntax.admissionAuthority = new GeneralName({ directoryName: buildName(info.admissionAuthority) });
  }
  syntax.contentsOfAdmissions = new AdmissionsList([adm]);
  return Buffer.from(AsnConvert.serialize(syntax));
}

export interface ParsedAdmission {
  admissionAuthority?: string;
  professions: Array<{ professionItems: string[]; professionOids: string[]; registrationNumber?: string }>;
}

/** AdmissionSyntax without the leading optional admissionAuthority (as on the eGK). */
class AdmissionSyntaxWithoutAuthority {
  @AsnProp({ type: AdmissionsList })
  contentsOfAdmissions = new AdmissionsList();
}

/** Offset of the first content byte of the DER element at `offset`. */
function contentOffset(der: Buffer, offset = 0): number {
  const lenByte = der[offset + 1];
  return offset + 2 + (lenByte & 0x80 ? lenByte & 0x7f : 0);
}

export function decodeAdmission(der: Buffer): ParsedAdmission {
  // The optional leading GeneralName is a CHOICE of context tags; a SEQUENCE tag there means it is absent.
  const hasAuthority = der[contentOffset(der)] !== 0x30;
  const syntax: { admissionAuthority?: GeneralName; contentsOfAdmissions: AdmissionsList } = hasAuthority
    ? AsnConvert.parse(der, AdmissionSyntax)
    : AsnConvert.parse(der, AdmissionSyntaxWithoutAuthority);
  const professions: ParsedAdmission['professions'] = [];
  for (const adm of syntax.contentsOfAdmissions) {
    for (const pi of adm.professionInfos) {
      professions.push({
        professionItems: Array.from(pi.professionItems).map((d) => d.toString()),
        professionOids: pi.professionOids ? Array.from(pi.professionOids) : [],
        registrationNumber: pi.registrationNumber,
      });
    }
  }
  const auth = syntax.admissionAuthority?.directoryName;
  return { admissionAuthority: auth ? formatName(auth) : undefined, professions };
}

// ---------------------------------------------------------------------------
// qcStatements (EN 319 412-5): the subset the HBA QES certificate carries
// ---------------------------------------------------------------------------

class QcStatement {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
  statementId = '';
  @AsnProp({ type: AsnPropTypes.Any, optional: true })
  statementInfo?: ArrayBuffer;
}

@AsnType({ type: AsnTypeTypes.Sequence, itemType: QcStatement })
class QcStatements extends AsnArray<QcStatement> {}

export function encodeQcStatements(statementIds: string[]): Buffer {
  return Buffer.from(
    AsnConvert.serialize(
      new QcStatements(
        statementIds.map((id) => {
          const s = new QcStatement();
          s.statementId = id;
          return s;
        }),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------
// Extensions
// ---------------------------------------------------------------------------

export interface ExtensionSpec {
  oid: string;
  critical?: boolean;
  /** DER of the extension value (inside the OCTET STRING). */
  value: Buffer;
}

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign';

const KEY_USAGE_FLAG: Record<KeyUsageName, number> = {
  digitalSignature: KeyUsageFlags.digitalSignature,
  nonRepudiation: KeyUsageFlags.nonRepudiation,
  keyEncipherment: KeyUsageFlags.keyEncipherment,
  dataEncipherment: KeyUsageFlags.dataEncipherment,
  keyAgreement: KeyUsageFlags.keyAgreement,
  keyCertSign: KeyUsageFlags.keyCertSign,
  cRLSign: KeyUsageFlags.cRLSign,
};

const ser = (o: unknown) => Buffer.from(AsnConvert.serialize(o));

export const ext = {
  basicConstraints(ca: boolean, pathLen?: number): ExtensionSpec {
    const bc = new BasicConstraints({ cA: ca });
    if (ca && pathLen !== undefined) bc.pathLenConstraint = pathLen;
    return { oid: OID.basicConstraints, critical: true, value: ser(bc) };
  },
  keyUsage(usages: KeyUsageName[]): ExtensionSpec {
    const flags = usages.reduce((acc, u) => acc | KEY_USAGE_FLAG[u], 0);
    return { oid: OID.keyUsage, critical: true, value: ser(new KeyUsage(flags)) };
  },
  extKeyUsage(oids: string[]): ExtensionSpec {
    return { oid: OID.extKeyUsage, critical: false, value: ser(new ExtendedKeyUsage(oids)) };
  },
  certificatePolicies(oids: string[]): ExtensionSpec {
    return {
      oid: OID.certificatePolicies,
      critical: false,
      value: ser(new CertificatePolicies(oids.map((policyIdentifier) => new PolicyInformation({ policyIdentifier })))),
    };
  },
  subjectKeyIdentifier(keyId: Buffer): ExtensionSpec {
    return { oid: OID.subjectKeyIdentifier, critical: false, value: ser(new SubjectKeyIdentifier(keyId)) };
  },
  authorityKeyIdentifier(keyId: Buffer): ExtensionSpec {
    return {
      oid: OID.authorityKeyIdentifier,
      critical: false,
      value: ser(new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyId) })),
    };
  },
  authorityInfoAccessOcsp(url: string): ExtensionSpec {
    const aia = new AuthorityInfoAccessSyntax([
      new AccessDescription({
        accessMethod: OID.ocspAccessMethod,
        accessLocation: new GeneralName({ uniformResourceIdentifier: url }),
      }),
    ]);
    return { oid: OID.authorityInfoAccess, critical: false, value: ser(aia) };
  },
  subjectAltName(names: { dns?: string[]; ip?: string[]; email?: string[] }): ExtensionSpec {
    const gns = [
      ...(names.dns ?? []).map((d) => new GeneralName({ dNSName: d })),
      ...(names.ip ?? []).map((ip) => new GeneralName({ iPAddress: ip })),
      ...(names.email ?? []).map((e) => new GeneralName({ rfc822Name: e })),
    ];
    return { oid: OID.subjectAltName, critical: false, value: ser(new SubjectAlternativeName(gns)) };
  },
  admission(info: AdmissionInfo): ExtensionSpec {
    return { oid: OID.admission, critical: false, value: encodeAdmission(info) };
  },
  qcStatements(statementIds: string[]): ExtensionSpec {
    return { oid: OID.qcStatements, critical: false, value: encodeQcStatements(statementIds) };
  },
  /** id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): value is NULL. */
  ocspNoCheck(): ExtensionSpec {
    return { oid: OID.ocspNoCheck, critical: false, value: Buffer.from([0x05, 0x00]) };
  },
};

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

export function generateBrainpoolKeyPair(): { publicKey: crypto.KeyObject; privateKey: crypto.KeyObject } {
  return crypto.generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' });
}

/** DER SubjectPublicKeyInfo of a public (or private) key. */
export function spkiDer(key: crypto.KeyObject): Buffer {
  const pub = key.type === 'private' ? crypto.createPublicKey(key) : key;
  return pub.export({ format: 'der', type: 'spki' });
}

/** The subjectPublicKey BIT STRING contents of a key (what key identifiers and OCSP key hashes are taken over). */
export function subjectPublicKeyBits(key: crypto.KeyObject | Buffer): Buffer {
  const spki = Buffer.isBuffer(key) ? key : spkiDer(key);
  const parsed = AsnConvert.parse(spki, SubjectPublicKeyInfo);
  return Buffer.from(parsed.subjectPublicKey);
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 over the subjectPublicKey bits. */
export function keyIdentifier(key: crypto.KeyObject | Buffer): Buffer {
  return crypto.createHash('sha1').update(subjectPublicKeyBits(key)).digest();
}

export function privateKeyToPem(key: crypto.KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

// ---------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------

export interface CertificateSpec {
  /** Positive serial number as big-endian bytes (leading zero added when needed). */
  serialNumber: Buffer;
  /** Issuer name as a structure or as the DER of the issuer certificate's subject. */
  issuer: DistinguishedName | Buffer;
  subject: DistinguishedName;
  notBefore: Date;
  notAfter: Date;
  publicKey: crypto.KeyObject;
  /** Key that signs the certificate (ECDSA with SHA-256). */
  signingKey: crypto.KeyObject;
  extensions: ExtensionSpec[];
}

function positiveInteger(bytes: Buffer): ArrayBuffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1] & 0x80) === 0) b = b.subarray(1);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return new Uint8Array(b).buffer;
}

/** Signature algorithm matching the signing key: ecdsa-with-SHA256 for EC keys, sha256WithRSA for RSA. */
function signatureAlgorithmFor(key: crypto.KeyObject): AlgorithmIdentifier {
  if (key.asymmetricKeyType === 'ec') return new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 });
  if (key.asymmetricKeyType === 'rsa') {
    return new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: new Uint8Array([5, 0]).buffer });
  }
  throw new Error(`unsupported signing key type ${String(key.asymmetricKeyType)}`);
}

export function buildCertificate(spec: CertificateSpec): Buffer {
  const sigAlg = signatureAlgorithmFor(spec.signingKey);
  const issuer = Buffer.isBuffer(spec.issuer) ? AsnConvert.parse(spec.issuer, Name) : buildName(spec.issuer);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: positiveInteger(spec.serialNumber),
    signature: sigAlg,
    issuer,
    validity: new Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subject: buildName(spec.subject),
    subjectPublicKeyInfo: AsnConvert.parse(spkiDer(spec.publicKey), SubjectPublicKeyInfo),
    extensions: new Extensions(
      spec.extensions.map(
        (e) => new Extension({ extnID: e.oid, critical: e.critical ?? false, extnValue: new OctetString(e.value) }),
      ),
    ),
  });
  const tbsDer = ser(tbs);
  const signature = crypto.sign('sha256', tbsDer, spec.signingKey);
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: sigAlg,
    signatureValue: new Uint8Array(signature).buffer,
  });
  // Re-assemble from the exact bytes that were signed.
  const certDer = ser(cert);
  return certDer;
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

export interface ParsedCertificate {
  der: Buffer;
  /** Serial number as lower-case hex without leading zero bytes. */
  serialNumber: string;
  subject: string;
  issuer: string;
  subjectAttributes: NameAttribute[];
  issuerAttributes: NameAttribute[];
  /** DER of the subject and issuer Name (for OCSP issuerNameHash, CMS issuerAndSerialNumber). */
  subjectDer: Buffer;
  issuerDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  publicKey: crypto.KeyObject;
  /** Curve name for EC keys (e.g. brainpoolP256r1). */
  namedCurve?: string;
  signatureAlgorithm: string;
  /** The exact TBSCertificate bytes that were signed. */
  tbsDer: Buffer;
  signature: Buffer;
  extensions: Array<{ oid: string; critical: boolean; value: Buffer }>;
  isCa: boolean;
  pathLen?: number;
  keyUsage: KeyUsageName[];
  extKeyUsage: string[];
  policies: string[];
  ocspUrls: string[];
  subjectKeyIdentifier?: Buffer;
  authorityKeyIdentifier?: Buffer;
  subjectAltNames: { dns: string[]; ip: string[]; email: string[] };
  admission?: ParsedAdmission;
}

/** Hex of a positive INTEGER's magnitude (leading zero bytes removed, at least "00"). */
export function serialHex(bytes: ArrayBuffer | Buffer): string {
  let b = Buffer.from(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes);
  while (b.length > 1 && b[0] === 0) b = b.subarray(1);
  return b.toString('hex');
}

/** Canonical form of a serial number given as hex (any case, optional 0x / leading zeros / colons). */
export function normalizeSerialHex(hex: string): string {
  const h = hex.toLowerCase().replace(/^0x/, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-f]+$/.test(h)) throw new Error(`not a hex serial number: ${hex}`);
  const trimmed = h.replace(/^0+/, '');
  if (!trimmed) return '00';
  return trimmed.length % 2 ? `0${trimmed}` : trimmed;
}

export function parseCertificate(input: Buffer | string): ParsedCertificate {
  const der = asDer(input);
  const cert = AsnConvert.parse(der, Certificate);
  const tbs = cert.tbsCertificate;
  const tbsDer = cert.tbsCertificateRaw ? Buffer.from(cert.tbsCertificateRaw) : ser(tbs);
  const spki = ser(tbs.subjectPublicKeyInfo);
  const publicKey = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const out: ParsedCertificate = {
    der,
    serialNumber: serialHex(tbs.serialNumber),
    subject: formatName(tbs.subject),
    issuer: formatName(tbs.issuer),
    subjectAttributes: nameAttributes(tbs.subject),
    issuerAttributes: nameAttributes(tbs.issuer),
    subjectDer: ser(tbs.subject),
    issuerDer: ser(tbs.issuer),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    publicKey,
    namedCurve: publicKey.asymmetricKeyDetails?.namedCurve,
    signatureAlgorithm: cert.signatureAlgorithm.algorithm,
    tbsDer,
    signature: Buffer.from(cert.signatureValue),
    extensions: [],
    isCa: false,
    keyUsage: [],
    extKeyUsage: [],
    policies: [],
    ocspUrls: [],
    subjectAltNames: { dns: [], ip: [], email: [] },
  };
  for (const e of tbs.extensions ?? []) {
    const value = Buffer.from(e.extnValue.buffer);
    out.extensions.push({ oid: e.extnID, critical: e.critical, value });
    switch (e.extnID) {
      case OID.basicConstraints: {
        const bc = AsnConvert.parse(value, BasicConstraints);
        out.isCa = bc.cA;
        out.pathLen = bc.pathLenConstraint;
        break;
      }
      case OID.keyUsage: {
        const ku = AsnConvert.parse(value, KeyUsage);
        out.keyUsage = (Object.keys(KEY_USAGE_FLAG) as KeyUsageName[]).filter((n) => (ku.toNumber() & KEY_USAGE_FLAG[n]) !== 0);
        break;
      }
      case OID.extKeyUsage:
        out.extKeyUsage = Array.from(AsnConvert.parse(value, ExtendedKeyUsage));
        break;
      case OID.certificatePolicies:
        out.policies = Array.from(AsnConvert.parse(value, CertificatePolicies)).map((p) => p.policyIdentifier);
        break;
      case OID.authorityInfoAccess:
        out.ocspUrls = Array.from(AsnConvert.parse(value, AuthorityInfoAccessSyntax))
          .filter((a) => a.accessMethod === OID.ocspAccessMethod && a.accessLocation.uniformResourceIdentifier)
          .map((a) => a.accessLocation.uniformResourceIdentifier as string);
        break;
      case OID.subjectKeyIdentifier:
        out.subjectKeyIdentifier = Buffer.from(AsnConvert.parse(value, SubjectKeyIdentifier).buffer);
        break;
      case OID.authorityKeyIdentifier: {
        const aki = AsnConvert.parse(value, AuthorityKeyIdentifier);
        if (aki.keyIdentifier) out.authorityKeyIdentifier = Buffer.from(aki.keyIdentifier.buffer);
        break;
      }
      case OID.subjectAltName:
        for (const gn of AsnConvert.parse(value, SubjectAlternativeName)) {
          if (gn.dNSName) out.subjectAltNames.dns.push(gn.dNSName);
          if (gn.iPAddress) out.subjectAltNames.ip.push(gn.iPAddress);
          if (gn.rfc822Name) out.subjectAltNames.email.push(gn.rfc822Name);
        }
        break;
      case OID.admission:
        out.admission = decodeAdmission(value);
        break;
      default:
        break;
    }
  }
  return out;
}

/** Whether `cert` carries a valid signature by the key of `issuer` (both DER/PEM or parsed). */
export function isSignedBy(cert: Buffer | string | ParsedCertificate, issuer: Buffer | string | ParsedCertificate | crypto.KeyObject): boolean {
  const c = 'tbsDer' in (cert as object) ? (cert as ParsedCertificate) : parseCertificate(cert as Buffer | string);
  let key: crypto.KeyObject;
  if (issuer instanceof crypto.KeyObject) key = issuer;
  else key = ('publicKey' in (issuer as object) ? (issuer as ParsedCertificate) : parseCertificate(issuer as Buffer | string)).publicKey;
  const hash = c.signatureAlgorithm === OID.ecdsaWithSha256 || c.signatureAlgorithm === '1.2.840.113549.1.1.11' ? 'sha256' : undefined;
  if (!hash) return false;
  try {
    return crypto.verify(hash, c.tbsDer, key, c.signature);
  } catch {
    return false;
  }
}

/** SHA-256 over the complete DER certificate (used by the OCSP certHash extension and PoPP). */
export function certificateSha256(der: Buffer): Buffer {
  return crypto.createHash('sha256').update(der).digest();
}
