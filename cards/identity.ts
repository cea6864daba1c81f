/**
 * Keys and certificates of a persona's card, issued by the simulated TI-PKI on first use and cached.
 *
 *   HBA    C.HP.QES, C.HP.AUT, C.HP.ENC
 *   SMC-B  C.HCI.AUT, C.HCI.ENC, C.HCI.OSIG
 *   eGK    C.CH.AUT, C.CH.AUTN, C.CH.ENC
 *
 * Cache: <cacheDir>/<type>/<slug>/ (default <env dataDir>/cards, e.g. .data/local/cards/hba/dr-hanna-ebert/)
 * holds per profile the certificate (DER) and the private key (PKCS#8 DER), plus manifest.json. A cached
 * identity is reused only while it still fits: same PKI root, same persona identity, certificates known to the
 * PKI's status store, status and validity as the persona says (good personas: good and valid for at least a
 * day; revoked personas: revoked; expired personas: expired). Otherwise all certificates are issued anew.
 *
 * Negative personas: `certificates: expired` issues with notAfter in the past, `certificates: revoked` issues
 * and revokes in the PKI (OCSP answers revoked), `noTelematikId` leaves the registrationNumber out of the
 * admission, `certificateProfessionOid` puts another role OID into the admission.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadEnvironment } from '../simulators/lib/config';
import { certificateSha256, generateBrainpoolKeyPair, parseCertificate, spkiDer, toPem, type ParsedCertificate } from '../simulators/lib/x509';
import type { Pki } from '../simulators/pki/hierarchy';
import type { IssueRequest, SubjectFields } from '../simulators/pki/profiles';
import { INSTITUTION_OIDS, PROFESSION_OIDS, type CardType, type Persona } from './persona';

/** The X.509 certificates (E256) of each card type, in the order they are issued. */
export const CARD_PROFILES: Record<CardType, string[]> = {
  HBA: ['C.HP.QES', 'C.HP.AUT', 'C.HP.ENC'],
  'SMC-B': ['C.HCI.AUT', 'C.HCI.ENC', 'C.HCI.OSIG'],
  eGK: ['C.CH.AUT', 'C.CH.AUTN', 'C.CH.ENC'],
};

/**
 * Further private keys of the card that have no X.509 certificate: the keys for card-to-card authentication
 * and secure messaging, whose CV certificates (EF.C.*_CVC.E256) need a CVC PKI the harness does not simulate
 * yet. They are generated once per card and cached like the others.
 */
export const CARD_KEYS: Record<CardType, string[]> = {
  HBA: ['PrK.HPC.AUTR_CVC.E256', 'PrK.HPC.AUTD_SUK_CVC.E256'],
  'SMC-B': ['PrK.SMC.AUTR_CVC.E256', 'PrK.SMC.AUTD_RPE_CVC.E256'],
  eGK: ['PrK.eGK.AUT_CVC.E256'],
};

/** Bump when the cache layout or the way certificates are made changes: older caches are re-issued. */
const CACHE_VERSION = 1;
/** Good certificates are re-issued when they would expire within this margin. */
const MIN_REMAINING_VALIDITY_MS = 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

export interface CardCertificate {
  profile: string;
  /** DER. */
  certificate: Buffer;
  certificatePem: string;
  parsed: ParsedCertificate;
  privateKey: crypto.KeyObject;
  /** Lower-case hex. */
  serialNumber: string;
  /** The issuing CA's certificate (DER). */
  issuerCertificate: Buffer;
}

export interface CardIdentity {
  persona: Persona;
  /** By profile name (C.HP.QES, …). */
  certificates: Record<string, CardCertificate>;
  /** Keys without X.509 certificate, by object name (see CARD_KEYS). */
  keys: Record<string, crypto.KeyObject>;
  /** Folder of this persona's cache. */
  dir: string;
  /** true when the certificates came from the cache, false when they were issued now. */
  fromCache: boolean;
  /** Why the certificates were issued now (no cache, the PKI root changed, the persona changed, …). */
  issuedBecause?: string;
}

export interface IdentityOptions {
  pki: Pki;
  /** Root of the card cache (default: <dataDir of the environment>/cards). */
  cacheDir?: string;
}

export class IdentityError extends Error {
  override name = 'IdentityError';
}

/** Default data folders of the environment (TI_ENV or local): <dataDir>/pki and <dataDir>/cards. */
export function defaultDataDirs(envName?: string): { pkiDir: string; cacheDir: string } {
  const env = loadEnvironment(envName);
  return { pkiDir: path.join(env.dataDir, 'pki'), cacheDir: path.join(env.dataDir, 'cards') };
}

// ---------------------------------------------------------------------------
// What goes into the certificates
// ---------------------------------------------------------------------------

/** The persona fields that determine the certificates; a change re-issues them. */
function identityFingerprint(p: Persona): string {
  const common = { type: p.type, iccsn: p.iccsn, negative: { ...p.negative, blockedPins: undefined } };
  const specific =
    p.type === 'eGK'
      ? { person: p.person, insurance: p.insurance }
      : p.type === 'HBA'
        ? { person: p.person, telematikId: p.telematikId, professionOid: p.professionOid }
        : { organization: p.organization, telematikId: p.telematikId, professionOid: p.professionOid };
  return crypto.createHash('sha256').update(JSON.stringify({ common, specific })).digest('hex');
}

function roleItem(oid: string): string {
  return PROFESSION_OIDS[oid] ?? INSTITUTION_OIDS[oid] ?? 'unbekannte Rolle';
}

/** The PKI issue request for one profile of a persona (without validity and status). */
export function issueRequestFor(p: Persona, profile: string): IssueRequest {
  if (p.type === 'eGK') {
    const subject: SubjectFields = {
      givenName: p.person.givenName,
      surname: p.person.surname,
      commonName: `${p.person.givenName} ${p.person.surname}`,
      organization: p.insurance.insurer,
    };
    // C.CH.AUTN is the pseudonymous certificate: no name, no KVNR (the PKI's layout: O, OU=IK, CN=pseudonym).
    if (profile === 'C.CH.AUTN') {
      const pseudonym = crypto.createHash('sha256').update(`AUTN ${p.iccsn}`).digest('hex').slice(0, 20).toUpperCase();
      return { profile, subject: { organization: p.insurance.insurer, commonName: pseudonym }, iknr: p.insurance.iknr };
    }
    return { profile, subject, kvnr: p.insurance.kvnr, iknr: p.insurance.iknr };
  }
  const professionOid = p.negative.certificateProfessionOid ?? p.professionOid;
  const professionItem = p.negative.certificateProfessionOid ? roleItem(p.negative.certificateProfessionOid) : p.professionItem;
  if (p.type === 'HBA') {
    return {
      profile,
      subject: {
        givenName: p.person.givenName,
        surname: p.person.surname,
        commonName: `${p.person.givenName} ${p.person.surname}`,
        // As on the real test HBA: the card number in the multi-valued RDN.
        serialNumber: `00.${p.iccsn}`,
        ...(p.person.title ? { title: p.person.title } : {}),
      },
      telematikId: p.telematikId,
      professionOid,
      professionItem,
    };
  }
  const o = p.organization;
  return {
    profile,
    subject: {
      commonName: o.name,
      organization: `${p.iccsn.slice(5)} NOT-VALID`,
      ...(o.street ? { street: o.street } : {}),
      ...(o.postalCode ? { postalCode: o.postalCode } : {}),
      ...(o.locality ? { locality: o.locality } : {}),
      ...(o.holder ? { givenName: o.holder.givenName, surname: o.holder.surname } : {}),
    },
    telematikId: p.telematikId,
    professionOid,
    professionItem,
  };
}

// ---------------------------------------------------------------------------
// Issuing
// ---------------------------------------------------------------------------

interface Issued {
  certificate: Buffer;
  privateKey: crypto.KeyObject;
  serialNumber: string;
}

/**
 * A certificate whose admission has no registrationNumber (Telematik-ID). The PKI's `issue` always puts one
 * into HBA and SMC-B certificates, so this builds the certificate from the same profile definition, signs it
 * with the same CA and registers it in the PKI's status store (OCSP knows it).
 */
function issueOne(pki: Pki, p: Persona, profile: string): Issued {
  const req = issueRequestFor(p, profile);
  const now = pki.clock();
  let notBefore: Date | undefined;
  let notAfter: Date | undefined;
  if (p.negative.certificates === 'expired') {
    notBefore = new Date(now.getTime() - 2 * 365 * DAY_MS);
    notAfter = new Date(now.getTime() - 30 * DAY_MS);
  }
  const noTelematikId = p.type !== 'eGK' && p.negative.noTelematikId;
  const r = pki.issue({ ...req, ...(noTelematikId ? { telematikId: null } : {}), ...(notBefore ? { notBefore, notAfter } : {}) });
  if (!r.privateKey) throw new IdentityError(`${p.name}: the PKI returned no private key for ${profile}`);
  const issued: Issued = { certificate: r.certificate, privateKey: r.privateKey, serialNumber: r.serialNumber };
  if (p.negative.certificates === 'revoked') pki.revoke(issued.serialNumber, p.negative.revocationReason ?? 'keyCompromise');
  return issued;
}

// ---------------------------------------------------------------------------
// Cache
// ---------------------------------------------------------------------------

interface Manifest {
  version: number;
  persona: string;
  fingerprint: string;
  rootSha256: string;
  issuedAt: string;
  certificates: Record<string, { serialNumber: string; certificate: string; privateKey: string }>;
  keys: Record<string, string>;
}

const fileNames = (profile: string) => ({ certificate: `${profile}.cert.der`, privateKey: `${profile}.key.pk8.der` });
const keyFileName = (name: string) => `${name}.pk8.der`;

function readPkcs8(file: string): crypto.KeyObject {
  return crypto.createPrivateKey({ key: fs.readFileSync(file), format: 'der', type: 'pkcs8' });
}

function rootSha256(pki: Pki): string {
  return certificateSha256(pki.rootCertificate).toString('hex');
}

function toCardCertificate(pki: Pki, profile: string, der: Buffer, privateKey: crypto.KeyObject): CardCertificate {
  const parsed = parseCertificate(der);
  const ca = pki.issuerOf(parsed);
  if (!ca) throw new IdentityError(`${profile} certificate ${parsed.serialNumber} was not issued by this PKI`);
  return { profile, certificate: der, certificatePem: toPem(der), parsed, privateKey, serialNumber: parsed.serialNumber, issuerCertificate: ca.certificate };
}

/** Read a cached identity; undefined (with the reason) when it must be issued anew. */
function readCache(dir: string, p: Persona, pki: Pki): { certificates?: Record<string, CardCertificate>; keys?: Record<string, crypto.KeyObject>; reason?: string } {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return { reason: 'no cache' };
  }
  if (manifest.version !== CACHE_VERSION) return { reason: 'cache layout changed' };
  if (manifest.rootSha256 !== rootSha256(pki)) return { reason: 'the PKI root changed' };
  if (manifest.fingerprint !== identityFingerprint(p)) return { reason: 'the persona changed' };
  const now = pki.clock().getTime();
  const out: Record<string, CardCertificate> = {};
  for (const profile of CARD_PROFILES[p.type]) {
    const entry = manifest.certificates?.[profile];
    if (!entry) return { reason: `${profile} missing` };
    let cc: CardCertificate;
    try {
      const der = fs.readFileSync(path.join(dir, entry.certificate));
      const key = readPkcs8(path.join(dir, entry.privateKey));
      cc = toCardCertificate(pki, profile, der, key);
      if (!spkiDer(crypto.createPublicKey(key)).equals(spkiDer(cc.parsed.publicKey))) return { reason: `${profile} key does not match its certificate` };
    } catch (e) {
      return { reason: `${profile} unreadable: ${(e as Error).message}` };
    }
    const record = pki.status(cc.serialNumber);
    if (!record) return { reason: `${profile} unknown to the PKI status store` };
    if (p.negative.certificates === 'revoked') {
      if (record.status !== 'revoked') pki.revoke(cc.serialNumber, p.negative.revocationReason ?? 'keyCompromise');
    } else if (record.status !== 'good') {
      return { reason: `${profile} was revoked` };
    }
    const notAfter = cc.parsed.notAfter.getTime();
    if (p.negative.certificates === 'expired') {
      if (notAfter >= now) return { reason: `${profile} is not expired` };
    } else if (notAfter < now + MIN_REMAINING_VALIDITY_MS || cc.parsed.notBefore.getTime() > now) {
      return { reason: `${profile} is outside its validity` };
    }
    out[profile] = cc;
  }
  const keys: Record<string, crypto.KeyObject> = {};
  for (const name of CARD_KEYS[p.type]) {
    const file = manifest.keys?.[name];
    if (!file) return { reason: `${name} missing` };
    try {
      keys[name] = readPkcs8(path.join(dir, file));
    } catch (e) {
      return { reason: `${name} unreadable: ${(e as Error).message}` };
    }
  }
  return { certificates: out, keys };
}

function writeCache(dir: string, p: Persona, pki: Pki, certs: Record<string, CardCertificate>, keys: Record<string, crypto.KeyObject>): void {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(path.dirname(dir), `.${path.basename(dir)}-tmp-`));
  const manifest: Manifest = {
    version: CACHE_VERSION,
    persona: p.id,
    fingerprint: identityFingerprint(p),
    rootSha256: rootSha256(pki),
    issuedAt: pki.clock().toISOString(),
    certificates: {},
    keys: {},
  };
  for (const [profile, cc] of Object.entries(certs)) {
    const f = fileNames(profile);
    fs.writeFileSync(path.join(tmp, f.certificate), cc.certificate);
    fs.writeFileSync(path.join(tmp, f.privateKey), cc.privateKey.export({ format: 'der', type: 'pkcs8' }), { mode: 0o600 });
    manifest.certificates[profile] = { serialNumber: cc.serialNumber, ...f };
  }
  for (const [name, key] of Object.entries(keys)) {
    fs.writeFileSync(path.join(tmp, keyFileName(name)), key.export({ format: 'der', type: 'pkcs8' }), { mode: 0o600 });
    manifest.keys[name] = keyFileName(name);
  }
  fs.writeFileSync(path.join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (fs.existsSync(dir)) fs.rmSync(dir, { recursive: true, force: true });
  try {
    fs.renameSync(tmp, dir);
  } catch {
    // Another process wrote the same persona at the same moment: keep theirs.
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Cache folder of one persona below the cache root. */
export function personaCacheDir(cacheRoot: string, p: Persona): string {
  return path.join(path.resolve(cacheRoot), ...p.id.split('/'));
}

/**
 * The keys and certificates of a persona's card: from the cache when it still fits, otherwise issued by the
 * PKI (and cached).
 */
export function loadOrIssueIdentity(p: Persona, opts: IdentityOptions): CardIdentity {
  const cacheRoot = opts.cacheDir ?? defaultDataDirs().cacheDir;
  const dir = personaCacheDir(cacheRoot, p);
  const cached = readCache(dir, p, opts.pki);
  if (cached.certificates && cached.keys) return { persona: p, certificates: cached.certificates, keys: cached.keys, dir, fromCache: true };
  const certificates: Record<string, CardCertificate> = {};
  for (const profile of CARD_PROFILES[p.type]) {
    const issued = issueOne(opts.pki, p, profile);
    certificates[profile] = toCardCertificate(opts.pki, profile, issued.certificate, issued.privateKey);
  }
  const keys: Record<string, crypto.KeyObject> = {};
  for (const name of CARD_KEYS[p.type]) keys[name] = generateBrainpoolKeyPair().privateKey;
  writeCache(dir, p, opts.pki, certificates, keys);
  // After a concurrent write the cache may hold another process's identity: use what is on disk.
  const reread = readCache(dir, p, opts.pki);
  const issuedBecause = cached.reason;
  if (reread.certificates && reread.keys) return { persona: p, certificates: reread.certificates, keys: reread.keys, dir, fromCache: false, issuedBecause };
  return { persona: p, certificates, keys, dir, fromCache: false, issuedBecause };
}
