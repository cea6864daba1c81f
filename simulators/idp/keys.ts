/**
 * The IDP's key material, created on first start and kept in its data directory (keys.json):
 *   - puk_disc_sig: signs the discovery document (C.IDP.SIG certificate from the simulated PKI)
 *   - puk_idp_sig:  signs challenges, codes, SSO/consent tokens, access and ID tokens (C.IDP.SIG)
 *   - puk_idp_enc:  BP-256 key the clients encrypt signed challenges and key_verifiers to
 *   - symmetric server secrets (A256GCM): code, SSO token, consent token; the pairwise-subject salt.
 * Certificates are issued anew (same keys) when the PKI changed or they expire within a day.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateBp256KeyPair, isBp256Key } from '../lib/bp256';
import { parseCertificate, pemToDer, privateKeyToPem, type ParsedCertificate } from '../lib/x509';
import type { Pki } from '../pki/hierarchy';

export interface SigningIdentity {
  privateKey: crypto.KeyObject;
  publicKey: crypto.KeyObject;
  certificate: Buffer;
  certificatePem: string;
  parsed: ParsedCertificate;
}

export interface IdpKeys {
  discoverySignature: SigningIdentity;
  idpSignature: SigningIdentity;
  idpEncryption: { privateKey: crypto.KeyObject; publicKey: crypto.KeyObject };
  secrets: {
    /** Encrypts authorization codes (JWE dir A256GCM). */
    code: Buffer;
    /** Encrypts SSO tokens. */
    sso: Buffer;
    /** Encrypts consent tokens. */
    consent: Buffer;
    /** HMAC key of pairwise subject identifiers and consent records (A_18859). */
    pairwiseSalt: Buffer;
  };
}

interface StoredKeys {
  version: 1;
  discSigKeyPem: string;
  discSigCertPem?: string;
  idpSigKeyPem: string;
  idpSigCertPem?: string;
  idpEncKeyPem: string;
  secrets: { code: string; sso: string; consent: string; pairwiseSalt: string };
}

const FILE = 'keys.json';
const RENEW_BEFORE_MS = 24 * 3600 * 1000;

function freshSecrets(): StoredKeys['secrets'] {
  const b = () => crypto.randomBytes(32).toString('base64');
  return { code: b(), sso: b(), consent: b(), pairwiseSalt: b() };
}

function readStored(file: string): StoredKeys | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredKeys;
    if (s.version !== 1) return undefined;
    for (const pem of [s.discSigKeyPem, s.idpSigKeyPem, s.idpEncKeyPem]) if (!isBp256Key(crypto.createPrivateKey(pem))) return undefined;
    for (const v of Object.values(s.secrets)) if (Buffer.from(v, 'base64').length !== 32) return undefined;
    return s;
  } catch {
    return undefined;
  }
}

function certificateUsable(pki: Pki, pem: string | undefined, key: crypto.KeyObject): boolean {
  if (!pem) return false;
  try {
    const der = pemToDer(pem);
    const parsed = parseCertificate(der);
    const pub = crypto.createPublicKey(key);
    return (
      !!pki.issuerOf(parsed) &&
      parsed.notAfter.getTime() - Date.now() > RENEW_BEFORE_MS &&
      parsed.publicKey.export({ type: 'spki', format: 'der' }).equals(pub.export({ type: 'spki', format: 'der' }))
    );
  } catch {
    return false;
  }
}

function identity(keyPem: string, certPem: string): SigningIdentity {
  const privateKey = crypto.createPrivateKey(keyPem);
  const certificate = pemToDer(certPem);
  return { privateKey, publicKey: crypto.createPublicKey(privateKey), certificate, certificatePem: certPem, parsed: parseCertificate(certificate) };
}

/** Loads the keys from `dir` (creating them on first start) and makes sure both C.IDP.SIG certificates are current. */
export function loadOrCreateIdpKeys(pki: Pki, dir: string, log: (m: string) => void = () => undefined): IdpKeys {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, FILE);
  let stored = readStored(file);
  let changed = false;
  if (!stored) {
    const pem = () => privateKeyToPem(generateBp256KeyPair().privateKey);
    stored = { version: 1, discSigKeyPem: pem(), idpSigKeyPem: pem(), idpEncKeyPem: pem(), secrets: freshSecrets() };
    changed = true;
    log('created new IDP keys');
  }
  const certify = (keyPem: string, certPem: string | undefined, commonName: string): string => {
    const key = crypto.createPrivateKey(keyPem);
    if (certificateUsable(pki, certPem, key)) return certPem as string;
    changed = true;
    return pki.issue({ profile: 'C.IDP.SIG', publicKey: crypto.createPublicKey(key), subject: { commonName } }).certificatePem;
  };
  stored.discSigCertPem = certify(stored.discSigKeyPem, stored.discSigCertPem, 'IDP Discovery Signer (simuliert)');
  stored.idpSigCertPem = certify(stored.idpSigKeyPem, stored.idpSigCertPem, 'IDP Token Signer (simuliert)');
  if (changed) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(stored, null, 1), { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  const encPrivate = crypto.createPrivateKey(stored.idpEncKeyPem);
  const secret = (v: string) => Buffer.from(v, 'base64');
  return {
    discoverySignature: identity(stored.discSigKeyPem, stored.discSigCertPem),
    idpSignature: identity(stored.idpSigKeyPem, stored.idpSigCertPem),
    idpEncryption: { privateKey: encPrivate, publicKey: crypto.createPublicKey(encPrivate) },
    secrets: {
      code: secret(stored.secrets.code),
      sso: secret(stored.secrets.sso),
      consent: secret(stored.secrets.consent),
      pairwiseSalt: secret(stored.secrets.pairwiseSalt),
    },
  };
}
