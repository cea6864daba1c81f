/**
 * The simulated TI-PKI: a brainpoolP256r1 CA hierarchy (root, issuing CAs, per-CA OCSP signers,
 * TSL signer) generated once into the data dir and reloaded on later starts, plus issuing of
 * end-entity certificates with TI profiles and their revocation status.
 *
 *   GEM.RCA-SIM (root, self-signed)
 *   ├── GEM.HBA-qCA-SIM   C.HP.QES
 *   ├── GEM.HBA-CA-SIM    C.HP.AUT, C.HP.ENC
 *   ├── GEM.SMCB-CA-SIM   C.HCI.AUT, C.HCI.ENC, C.HCI.OSIG
 *   ├── GEM.EGK-CA-SIM    C.CH.AUT, C.CH.AUTN, C.CH.ENC
 *   ├── GEM.KOMP-CA-SIM   C.FD.*, C.IDP.SIG, C.AK.AUT, TLS-SERVER, TLS-CLIENT
 *   └── GEM.TSL-CA-SIM    TSL signer
 *   each CA (root included) also issues its own delegated OCSP signer (id-kp-OCSPSigning).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  buildCertificate,
  certificateSha256,
  ext,
  generateBrainpoolKeyPair,
  keyIdentifier,
  normalizeSerialHex,
  OID,
  parseCertificate,
  pemToDer,
  privateKeyToPem,
  subjectPublicKeyBits,
  toPem,
  type DistinguishedName,
  type ExtensionSpec,
  type ParsedCertificate,
} from '../lib/x509';
import { DEFAULT_PORTS } from '../lib/ports';
import { POLICY } from './oids';
import {
  getProfile,
  ISSUING_CA_NAMES,
  makeKvnr,
  ProfileError,
  REVOCATION_REASONS,
  type CaName,
  type IssueRequest,
  type RevocationReasonName,
} from './profiles';
import { CertificateStore, type CertificateRecord } from './store';

export { ProfileError, PROFILES, PROFILE_NAMES } from './profiles';
export type { CaName, IssueRequest, SubjectFields, RevocationReasonName } from './profiles';
export type { CertificateRecord } from './store';

/** Bump when the layout of the generated hierarchy changes: older hierarchies are then regenerated. */
const HIERARCHY_VERSION = 2;
const HIERARCHY_DIR = 'hierarchy';
const STORE_FILE = 'certificates.jsonl';
const CA_VALIDITY_YEARS = 20;
const CA_NOT_BEFORE = new Date('2020-01-01T00:00:00Z');
const DEFAULT_LEAF_VALIDITY_DAYS = 5 * 365;

export const SIMULATED_ORGANIZATION = 'ti-harness simulated TI NOT-VALID';

const CA_SUBJECTS: Record<CaName, { ou: string; cn: string }> = {
  root: { ou: 'Zentrale Root-CA der Telematikinfrastruktur (simuliert)', cn: 'GEM.RCA-SIM TEST-ONLY' },
  'hba-qca': { ou: 'Qualifizierter VDA der Telematikinfrastruktur (simuliert)', cn: 'GEM.HBA-qCA-SIM TEST-ONLY' },
  'hba-ca': { ou: 'Heilberufsausweis-CA der Telematikinfrastruktur (simuliert)', cn: 'GEM.HBA-CA-SIM TEST-ONLY' },
  'smcb-ca': { ou: 'Institution des Gesundheitswesens-CA der Telematikinfrastruktur (simuliert)', cn: 'GEM.SMCB-CA-SIM TEST-ONLY' },
  'egk-ca': { ou: 'Elektronische Gesundheitskarte-CA der Telematikinfrastruktur (simuliert)', cn: 'GEM.EGK-CA-SIM TEST-ONLY' },
  'komp-ca': { ou: 'Komponenten-CA der Telematikinfrastruktur (simuliert)', cn: 'GEM.KOMP-CA-SIM TEST-ONLY' },
  'tsl-ca': { ou: 'TSL-Signer-CA der Telematikinfrastruktur (simuliert)', cn: 'GEM.TSL-CA-SIM TEST-ONLY' },
};

export const CA_NAMES: CaName[] = ['root', ...ISSUING_CA_NAMES];

export interface KeyAndCertificate {
  certificate: Buffer;
  certificatePem: string;
  privateKey: crypto.KeyObject;
  privateKeyPem: string;
  parsed: ParsedCertificate;
}

export interface CertificateAuthority extends KeyAndCertificate {
  name: CaName;
  /** Delegated OCSP responder certificate issued by this CA (id-kp-OCSPSigning). */
  ocspSigner: KeyAndCertificate;
  /** SHA-1 / SHA-256 of the subject name DER and of the public key bits (OCSP CertID matching). */
  nameHash: { sha1: Buffer; sha256: Buffer };
  keyHash: { sha1: Buffer; sha256: Buffer };
}

export interface IssuedCertificate {
  certificate: Buffer;
  certificatePem: string;
  /** Present unless the request certified an existing public key. */
  privateKey?: crypto.KeyObject;
  privateKeyPem?: string;
  /** Lower-case hex without leading zero bytes. */
  serialNumber: string;
  issuerCertificate: Buffer;
  issuerPem: string;
  /** Issuer … root, PEM. */
  chainPem: string[];
  profile: string;
  ca: CaName;
  ocspUrl: string;
  telematikId?: string;
  kvnr?: string;
  record: CertificateRecord;
}

/** IssuedCertificate of a request without `publicKey`: the key pair is always present. */
export type IssuedCertificateWithKey = IssuedCertificate & { privateKey: crypto.KeyObject; privateKeyPem: string };

export interface PkiOptions {
  /** Clock for validity windows and revocation times (default: system time). */
  clock?: () => Date;
  /** OCSP URL placed in issued certificates' AuthorityInfoAccess (default http://127.0.0.1:8440/ocsp). */
  ocspUrl?: string;
}

export interface Pki {
  dir: string;
  root: CertificateAuthority;
  rootCertificate: Buffer;
  rootCertificatePem: string;
  cas: Record<CaName, CertificateAuthority>;
  tslSigner: KeyAndCertificate;
  /** OCSP URL written into newly issued certificates; the service sets it to its real address. */
  ocspUrl: string;
  clock: () => Date;
  store: CertificateStore;
  issue(request: IssueRequest & { publicKey?: undefined }): IssuedCertificateWithKey;
  issue(request: IssueRequest): IssuedCertificate;
  revoke(serialHex: string, reason?: RevocationReasonName | number, time?: Date): CertificateRecord;
  /** Set a certificate back to good (e.g. after certificateHold). */
  reinstate(serialHex: string): CertificateRecord;
  status(serialHex: string): CertificateRecord | undefined;
  /** The CA that issued a certificate (by issuer name and signature), if it is one of ours. */
  issuerOf(cert: Buffer | ParsedCertificate): CertificateAuthority | undefined;
  /** Chain (issuer … root) of a CA as PEM. */
  chainOf(ca: CaName): string[];
}

// ---------------------------------------------------------------------------
// Generation and loading
// ---------------------------------------------------------------------------

function caDn(name: CaName): DistinguishedName {
  const s = CA_SUBJECTS[name];
  return [
    { type: 'C', value: 'DE' },
    { type: 'O', value: SIMULATED_ORGANIZATION },
    { type: 'OU', value: s.ou },
    { type: 'CN', value: s.cn },
  ];
}

function randomSerial(): Buffer {
  const b = crypto.randomBytes(8);
  b[0] &= 0x7f;
  if (b[0] === 0) b[0] = 0x01;
  return b;
}

function addYears(d: Date, years: number): Date {
  const r = new Date(d.getTime());
  r.setUTCFullYear(r.getUTCFullYear() + years);
  return r;
}

function keyAndCert(certificate: Buffer, privateKey: crypto.KeyObject): KeyAndCertificate {
  return {
    certificate,
    certificatePem: toPem(certificate),
    privateKey,
    privateKeyPem: privateKeyToPem(privateKey),
    parsed: parseCertificate(certificate),
  };
}

interface GeneratedHierarchy {
  cas: Record<CaName, { ca: KeyAndCertificate; ocsp: KeyAndCertificate }>;
  tslSigner: KeyAndCertificate;
}

function generateHierarchy(now: Date): GeneratedHierarchy {
  // Valid from well before any date a scenario's simulated clock is likely to be set to.
  const notBefore = new Date(Math.min(now.getTime() - 24 * 3600 * 1000, CA_NOT_BEFORE.getTime()));
  const notAfter = addYears(now, CA_VALIDITY_YEARS);
  const rootKeys = generateBrainpoolKeyPair();
  const rootSki = keyIdentifier(rootKeys.publicKey);
  const rootDer = buildCertificate({
    serialNumber: randomSerial(),
    issuer: caDn('root'),
    subject: caDn('root'),
    notBefore,
    notAfter,
    publicKey: rootKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: [
      ext.subjectKeyIdentifier(rootSki),
      ext.basicConstraints(true),
      ext.keyUsage(['keyCertSign', 'cRLSign']),
    ],
  });
  const root = keyAndCert(rootDer, rootKeys.privateKey);
  const out = { cas: {} as GeneratedHierarchy['cas'] } as GeneratedHierarchy;

  const ocspSignerFor = (name: CaName, ca: KeyAndCertificate): KeyAndCertificate => {
    const keys = generateBrainpoolKeyPair();
    const der = buildCertificate({
      serialNumber: randomSerial(),
      issuer: ca.parsed.subjectDer,
      subject: [
        { type: 'C', value: 'DE' },
        { type: 'O', value: SIMULATED_ORGANIZATION },
        { type: 'CN', value: `${CA_SUBJECTS[name].cn.replace(' TEST-ONLY', '')} OCSP Signer TEST-ONLY` },
      ],
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: ca.privateKey,
      extensions: [
        ext.subjectKeyIdentifier(keyIdentifier(keys.publicKey)),
        ext.authorityKeyIdentifier(keyIdentifier(ca.parsed.publicKey)),
        ext.basicConstraints(false),
        ext.keyUsage(['digitalSignature', 'nonRepudiation']),
        ext.extKeyUsage([OID.kpOcspSigning]),
        ext.certificatePolicies([POLICY.gemOrCp]),
      ],
    });
    return keyAndCert(der, keys.privateKey);
  };

  out.cas.root = { ca: root, ocsp: ocspSignerFor('root', root) };
  for (const name of ISSUING_CA_NAMES) {
    const keys = generateBrainpoolKeyPair();
    const der = buildCertificate({
      serialNumber: randomSerial(),
      issuer: root.parsed.subjectDer,
      subject: caDn(name),
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: root.privateKey,
      extensions: [
        ext.subjectKeyIdentifier(keyIdentifier(keys.publicKey)),
        ext.authorityKeyIdentifier(rootSki),
        ext.basicConstraints(true, 0),
        ext.keyUsage(['keyCertSign', 'cRLSign']),
        ext.certificatePolicies([POLICY.gemOrCp]),
      ],
    });
    const ca = keyAndCert(der, keys.privateKey);
    out.cas[name] = { ca, ocsp: ocspSignerFor(name, ca) };
  }

  const tslCa = out.cas['tsl-ca'].ca;
  const tslKeys = generateBrainpoolKeyPair();
  out.tslSigner = keyAndCert(
    buildCertificate({
      serialNumber: randomSerial(),
      issuer: tslCa.parsed.subjectDer,
      subject: [
        { type: 'C', value: 'DE' },
        { type: 'O', value: SIMULATED_ORGANIZATION },
        { type: 'CN', value: 'TSL Signing Unit SIM TEST-ONLY' },
      ],
      notBefore,
      notAfter,
      publicKey: tslKeys.publicKey,
      signingKey: tslCa.privateKey,
      extensions: [
        ext.subjectKeyIdentifier(keyIdentifier(tslKeys.publicKey)),
        ext.authorityKeyIdentifier(keyIdentifier(tslCa.parsed.publicKey)),
        ext.basicConstraints(false),
        ext.keyUsage(['nonRepudiation']),
        ext.extKeyUsage([OID.kpTslSigning]),
        ext.certificatePolicies([POLICY.tslSigner]),
      ],
    }),
    tslKeys.privateKey,
  );
  return out;
}

const fileNames = (name: string) => ({ cert: `${name}.cert.pem`, key: `${name}.key.pem` });

function writeHierarchy(target: string, h: GeneratedHierarchy): void {
  const write = (name: string, kc: KeyAndCertificate) => {
    const f = fileNames(name);
    fs.writeFileSync(path.join(target, f.cert), kc.certificatePem);
    fs.writeFileSync(path.join(target, f.key), kc.privateKeyPem, { mode: 0o600 });
  };
  for (const name of CA_NAMES) {
    write(name, h.cas[name].ca);
    write(`${name}-ocsp`, h.cas[name].ocsp);
  }
  write('tsl-signer', h.tslSigner);
  fs.writeFileSync(
    path.join(target, 'manifest.json'),
    `${JSON.stringify({ version: HIERARCHY_VERSION, createdAt: new Date().toISOString(), cas: CA_NAMES }, null, 2)}\n`,
  );
}

function readHierarchy(source: string): GeneratedHierarchy | undefined {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(source, 'manifest.json'), 'utf8')) as { version?: number };
    if (manifest.version !== HIERARCHY_VERSION) return undefined;
    const read = (name: string): KeyAndCertificate => {
      const f = fileNames(name);
      const certificate = pemToDer(fs.readFileSync(path.join(source, f.cert), 'utf8'), 'CERTIFICATE');
      const privateKey = crypto.createPrivateKey(fs.readFileSync(path.join(source, f.key), 'utf8'));
      return keyAndCert(certificate, privateKey);
    };
    const out = { cas: {} as GeneratedHierarchy['cas'] } as GeneratedHierarchy;
    for (const name of CA_NAMES) out.cas[name] = { ca: read(name), ocsp: read(`${name}-ocsp`) };
    out.tslSigner = read('tsl-signer');
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Generate into a private temporary directory and rename it into place, so that concurrent
 * first starts on one data dir end up sharing a single hierarchy.
 */
function loadOrGenerate(dir: string, now: Date): GeneratedHierarchy {
  const target = path.join(dir, HIERARCHY_DIR);
  const existing = readHierarchy(target);
  if (existing) return existing;
  fs.mkdirSync(dir, { recursive: true });
  if (fs.existsSync(target)) {
    // Outdated or damaged: keep it for inspection and start afresh (issued certificates belong to it).
    const stamp = `${Date.now()}-${process.pid}`;
    fs.renameSync(target, `${target}.old-${stamp}`);
    const store = path.join(dir, STORE_FILE);
    if (fs.existsSync(store)) fs.renameSync(store, `${store}.old-${stamp}`);
  }
  const generated = generateHierarchy(now);
  const tmp = fs.mkdtempSync(path.join(dir, `.${HIERARCHY_DIR}-tmp-`));
  writeHierarchy(tmp, generated);
  try {
    fs.renameSync(tmp, target);
    return generated;
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true });
    const winner = readHierarchy(target);
    if (!winner) throw new Error(`could not create the PKI hierarchy in ${target}`);
    return winner;
  }
}

// ---------------------------------------------------------------------------
// Issuing
// ---------------------------------------------------------------------------

function toDate(v: Date | string | undefined, field: string): Date | undefined {
  if (v === undefined) return undefined;
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) throw new ProfileError(`${field} is not a valid date: ${String(v)}`);
  return d;
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]+$/;

function randomDigits(n: number): string {
  let s = '';
  while (s.length < n) s += crypto.randomInt(0, 10).toString();
  return s;
}

function revocationReasonCode(reason: RevocationReasonName | number | undefined): number | undefined {
  if (reason === undefined) return undefined;
  if (typeof reason === 'number') {
    if (!Object.values(REVOCATION_REASONS).includes(reason)) throw new ProfileError(`unknown revocation reason code ${reason}`);
    return reason;
  }
  if (!Object.prototype.hasOwnProperty.call(REVOCATION_REASONS, reason)) {
    throw new ProfileError(`unknown revocation reason "${reason}" (known: ${Object.keys(REVOCATION_REASONS).join(', ')})`);
  }
  return REVOCATION_REASONS[reason];
}

class SimulatedPki implements Pki {
  readonly root: CertificateAuthority;
  readonly rootCertificate: Buffer;
  readonly rootCertificatePem: string;
  readonly cas: Record<CaName, CertificateAuthority>;
  readonly tslSigner: KeyAndCertificate;
  readonly store: CertificateStore;
  ocspUrl: string;
  clock: () => Date;

  constructor(
    readonly dir: string,
    h: GeneratedHierarchy,
    opts: PkiOptions,
  ) {
    this.clock = opts.clock ?? (() => new Date());
    this.ocspUrl = opts.ocspUrl ?? `http://127.0.0.1:${DEFAULT_PORTS.pki}/ocsp`;
    const hash = (alg: string, data: Buffer) => crypto.createHash(alg).update(data).digest();
    this.cas = {} as Record<CaName, CertificateAuthority>;
    for (const name of CA_NAMES) {
      const { ca, ocsp } = h.cas[name];
      const keyBits = subjectPublicKeyBits(ca.parsed.publicKey);
      this.cas[name] = {
        ...ca,
        name,
        ocspSigner: ocsp,
        nameHash: { sha1: hash('sha1', ca.parsed.subjectDer), sha256: hash('sha256', ca.parsed.subjectDer) },
        keyHash: { sha1: hash('sha1', keyBits), sha256: hash('sha256', keyBits) },
      };
    }
    this.root = this.cas.root;
    this.rootCertificate = this.root.certificate;
    this.rootCertificatePem = this.root.certificatePem;
    this.tslSigner = h.tslSigner;
    this.store = new CertificateStore(path.join(dir, STORE_FILE));
    this.registerInfrastructure();
  }

  /** CA, OCSP signer and TSL signer certificates are ours too: OCSP answers "good" for them. */
  private registerInfrastructure(): void {
    const add = (kc: KeyAndCertificate, ca: CaName, profile: string) => {
      if (this.store.has(kc.parsed.serialNumber)) return;
      this.store.add({
        serialNumber: kc.parsed.serialNumber,
        ca,
        profile,
        subject: kc.parsed.subject,
        notBefore: kc.parsed.notBefore.toISOString(),
        notAfter: kc.parsed.notAfter.toISOString(),
        issuedAt: kc.parsed.notBefore.toISOString(),
        certHash: certificateSha256(kc.certificate).toString('hex'),
        status: 'good',
      });
    };
    for (const name of ISSUING_CA_NAMES) add(this.cas[name], 'root', 'CA');
    for (const name of CA_NAMES) add(this.cas[name].ocspSigner, name, 'OCSP-SIGNER');
    add(this.tslSigner, 'tsl-ca', 'TSL-SIGNER');
  }

  chainOf(name: CaName): string[] {
    return name === 'root' ? [this.rootCertificatePem] : [this.cas[name].certificatePem, this.rootCertificatePem];
  }

  issue(request: IssueRequest & { publicKey?: undefined }): IssuedCertificateWithKey;
  issue(request: IssueRequest): IssuedCertificate;
  issue(request: IssueRequest): IssuedCertificate {
    if (!request || typeof request !== 'object') throw new ProfileError('issue request must be an object');
    const profile = getProfile(request.profile);
    const ca = this.cas[profile.ca];
    const now = this.clock();

    const notBefore = toDate(request.notBefore, 'notBefore') ?? new Date(now.getTime() - 3600 * 1000);
    const validityDays = request.validityDays ?? DEFAULT_LEAF_VALIDITY_DAYS;
    if (!(validityDays > 0)) throw new ProfileError('validityDays must be a positive number');
    const notAfter = toDate(request.notAfter, 'notAfter') ?? new Date(notBefore.getTime() + validityDays * 86400 * 1000);
    if (notAfter.getTime() <= notBefore.getTime()) throw new ProfileError('notAfter must be after notBefore');

    const status = request.status ?? 'good';
    if (status !== 'good' && status !== 'revoked') throw new ProfileError(`status must be "good" or "revoked", got "${String(status)}"`);
    const reasonCode = revocationReasonCode(request.revocationReason);
    const revocationTime = toDate(request.revocationTime, 'revocationTime');

    // null: deliberately no registration number (negative tests: "HBA without Telematik-ID").
    let telematikId = request.telematikId === null ? undefined : request.telematikId;
    if (request.telematikId === undefined && profile.telematikIdPrefix) telematikId = `${profile.telematikIdPrefix}${randomDigits(10)}`;
    if (telematikId !== undefined && !PRINTABLE.test(telematikId)) {
      throw new ProfileError(`telematikId must consist of PrintableString characters (A-Z a-z 0-9 space '()+,-./:=?), got "${telematikId}"`);
    }
    const kvnr = profile.ca === 'egk-ca' && request.profile !== 'C.CH.AUTN' ? (request.kvnr ?? makeKvnr()) : undefined;
    for (const ip of request.ipAddresses ?? []) {
      if (!net.isIP(ip)) throw new ProfileError(`not an IP address: "${ip}"`);
    }
    for (const dns of request.dnsNames ?? []) {
      if (typeof dns !== 'string' || !/^[A-Za-z0-9*.-]+$/.test(dns)) throw new ProfileError(`not a DNS name: "${String(dns)}"`);
    }

    let publicKey: crypto.KeyObject;
    let privateKey: crypto.KeyObject | undefined;
    if (request.publicKey) {
      publicKey = request.publicKey.type === 'private' ? crypto.createPublicKey(request.publicKey) : request.publicKey;
    } else {
      const kp = generateBrainpoolKeyPair();
      publicKey = kp.publicKey;
      privateKey = kp.privateKey;
    }

    const subject = profile.subject(
      { request: kvnr ? { ...request, kvnr } : request, random: () => randomDigits(24) },
      telematikId,
    );
    const ocspUrl = request.ocspUrl ?? this.ocspUrl;
    const extensions: ExtensionSpec[] = [
      ext.subjectKeyIdentifier(keyIdentifier(publicKey)),
      ext.authorityKeyIdentifier(keyIdentifier(ca.parsed.publicKey)),
      ext.basicConstraints(false),
      ext.keyUsage(profile.keyUsage),
    ];
    if (profile.extKeyUsage.length) extensions.push(ext.extKeyUsage(profile.extKeyUsage));
    extensions.push(ext.certificatePolicies(profile.policies));
    extensions.push(ext.authorityInfoAccessOcsp(ocspUrl));
    const role = profile.admissionRole;
    if (role || request.professionOid) {
      extensions.push(
        ext.admission({
          admissionAuthority: profile.admissionAuthority,
          professionItems: [request.professionItem ?? role?.item ?? 'unspecified'],
          professionOids: [request.professionOid ?? (role?.oid as string)],
          registrationNumber: telematikId,
        }),
      );
    }
    if (profile.qcStatements) extensions.push(ext.qcStatements(profile.qcStatements));
    if (profile.subjectAltName) {
      const dns = request.dnsNames ?? (request.ipAddresses ? [] : ['localhost']);
      const ip = request.ipAddresses ?? (request.dnsNames ? [] : ['127.0.0.1']);
      extensions.push(ext.subjectAltName({ dns, ip }));
    }

    let serial = randomSerial();
    while (this.store.has(serial.toString('hex'))) serial = randomSerial();
    const der = buildCertificate({
      serialNumber: serial,
      issuer: ca.parsed.subjectDer,
      subject,
      notBefore,
      notAfter,
      publicKey,
      signingKey: ca.privateKey,
      extensions,
    });
    const parsed = parseCertificate(der);
    const record: CertificateRecord = {
      serialNumber: parsed.serialNumber,
      ca: ca.name,
      profile: profile.name,
      subject: parsed.subject,
      notBefore: notBefore.toISOString(),
      notAfter: notAfter.toISOString(),
      issuedAt: now.toISOString(),
      certHash: certificateSha256(der).toString('hex'),
      status: 'good',
    };
    this.store.add(record);
    const finalRecord =
      status === 'revoked' ? this.store.setStatus(record.serialNumber, 'revoked', revocationTime ?? now, reasonCode) : record;

    return {
      certificate: der,
      certificatePem: toPem(der),
      privateKey,
      privateKeyPem: privateKey ? privateKeyToPem(privateKey) : undefined,
      serialNumber: parsed.serialNumber,
      issuerCertificate: ca.certificate,
      issuerPem: ca.certificatePem,
      chainPem: this.chainOf(ca.name),
      profile: profile.name,
      ca: ca.name,
      ocspUrl,
      telematikId,
      kvnr,
      record: finalRecord,
    };
  }

  revoke(serialHex: string, reason?: RevocationReasonName | number, time?: Date): CertificateRecord {
    const code = revocationReasonCode(reason);
    return this.store.setStatus(normalizeSerialHex(serialHex), 'revoked', time ?? this.clock(), code);
  }

  reinstate(serialHex: string): CertificateRecord {
    return this.store.setStatus(normalizeSerialHex(serialHex), 'good');
  }

  status(serialHex: string): CertificateRecord | undefined {
    return this.store.get(serialHex);
  }

  issuerOf(cert: Buffer | ParsedCertificate): CertificateAuthority | undefined {
    const c = Buffer.isBuffer(cert) ? parseCertificate(cert) : cert;
    return CA_NAMES.map((n) => this.cas[n]).find(
      (ca) => ca.parsed.subjectDer.equals(c.issuerDer) && crypto.verify('sha256', c.tbsDer, ca.parsed.publicKey, c.signature),
    );
  }
}

/**
 * Load the PKI from `dir` (creating the hierarchy on first use). Reloading is fast: only PEM files
 * and the status log are read.
 */
export async function loadOrCreatePki(dir: string, opts: PkiOptions = {}): Promise<Pki> {
  return loadOrCreatePkiSync(dir, opts);
}

export function loadOrCreatePkiSync(dir: string, opts: PkiOptions = {}): Pki {
  const abs = path.resolve(dir);
  const now = (opts.clock ?? (() => new Date()))();
  const h = loadOrGenerate(abs, now);
  return new SimulatedPki(abs, h, opts);
}
