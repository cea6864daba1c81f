/**
 * Compact JWS and JWE for the TI's brainpool JOSE profile (gemSpec_IDP_*,
 * gemSpec_Krypt), on node:crypto only.
 *
 * - JWS alg `BP256R1`: ECDSA brainpoolP256r1 + SHA-256, signing input
 *   ASCII(b64u(header) "." b64u(payload)), signature raw r||s (64 bytes), i.e.
 *   ES256 mechanics on another curve. `ES256` (P-256) is accepted too when the
 *   caller allows it (PoPP token).
 * - JWE `ECDH-ES` + `A256GCM` with a BP-256 `epk` (Concat KDF, RFC 7518 §4.6).
 * - JWE `dir` + `A256GCM` (IDP token key).
 *
 * Everything that is not exactly as expected (alg "none", alg/key mismatch,
 * non-canonical base64url, wrong IV/tag/key sizes, tampered data) raises a
 * JoseError with a stable code.
 */
import * as crypto from 'node:crypto';
import { JoseError, type JoseErrorCode } from './crypto-errors';
import {
  BP256_CURVE_NAME,
  bp256PublicKeyFromJwk,
  bp256PublicKeyToJwk,
  generateBp256KeyPair,
  isBp256Key,
  toBp256PublicKey,
  type Bp256PublicJwk,
  type Bp256PublicKeyInput,
} from './bp256';

/** Upper bound for a compact JWS/JWE string (10 MiB). */
export const MAX_JOSE_COMPACT_LENGTH = 10 * 1024 * 1024;

export type JwsAlgorithm = 'BP256R1' | 'ES256';

const JWS_ALGORITHMS: Record<JwsAlgorithm, { curve: string; hash: string; signatureLength: number }> = {
  BP256R1: { curve: BP256_CURVE_NAME, hash: 'sha256', signatureLength: 64 },
  ES256: { curve: 'prime256v1', hash: 'sha256', signatureLength: 64 },
};

export interface JoseHeader {
  alg: string;
  [param: string]: unknown;
}

export interface DecodedJws {
  header: JoseHeader;
  payload: Buffer;
  signature: Buffer;
  /** ASCII(b64u(header) "." b64u(payload)) as it appeared in the token. */
  signingInput: string;
}

export interface VerifiedJws extends DecodedJws {
  /** The certificate whose key verified the signature (given by the caller or taken from x5c[0]). */
  certificate?: crypto.X509Certificate;
}

/** A key to verify with: public/private KeyObject, certificate (X509Certificate, DER, PEM), PEM public key or BP-256 JWK. */
export type JwsVerificationKey = crypto.KeyObject | crypto.X509Certificate | Buffer | string | Bp256PublicJwk;

export interface JwsVerifyOptions {
  /** Accepted algorithms (default ['BP256R1']). */
  algorithms?: JwsAlgorithm[];
  /** If set, the header "typ" must equal this value. */
  typ?: string;
}

// ---------------------------------------------------------------- base64url / JSON helpers

/** Strict base64url decoding: alphabet, no padding, canonical trailing bits. */
export function base64UrlDecode(s: string, what = 'value'): Buffer {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) {
    throw new JoseError('INVALID_BASE64', `${what} is not base64url`);
  }
  const b = Buffer.from(s, 'base64url');
  if (b.toString('base64url') !== s) throw new JoseError('INVALID_BASE64', `${what} is not canonical base64url`);
  return b;
}

export function base64UrlEncode(b: Buffer | string): string {
  return (typeof b === 'string' ? Buffer.from(b, 'utf8') : b).toString('base64url');
}

function parseJsonObject(b: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(b.toString('utf8'));
  } catch {
    throw new JoseError('INVALID_JSON', `${what} is not JSON`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new JoseError('INVALID_JSON', `${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** Parse a JWS payload (or JWE plaintext) as a JSON object. */
export function payloadJson<T = Record<string, unknown>>(payload: Buffer): T {
  return parseJsonObject(payload, 'payload') as T;
}

function splitCompact(token: string, parts: number, kind: string): string[] {
  if (typeof token !== 'string') throw new JoseError('MALFORMED', `${kind} must be a string`);
  if (token.length > MAX_JOSE_COMPACT_LENGTH) {
    throw new JoseError('TOO_LARGE', `${kind} of ${token.length} characters exceeds ${MAX_JOSE_COMPACT_LENGTH}`);
  }
  const p = token.split('.');
  if (p.length !== parts) throw new JoseError('MALFORMED', `${kind} compact serialisation needs ${parts} parts, got ${p.length}`);
  return p;
}

function decodeHeader(b64: string): JoseHeader {
  const header = parseJsonObject(base64UrlDecode(b64, 'protected header'), 'protected header');
  if (typeof header.alg !== 'string') throw new JoseError('INVALID_HEADER', 'header has no "alg"');
  if (header.alg.toLowerCase() === 'none') throw new JoseError('ALG_NONE', 'alg "none" is not accepted');
  if (header.crit !== undefined) throw new JoseError('UNSUPPORTED_HEADER', `critical header parameters not supported: ${JSON.stringify(header.crit)}`);
  return header as JoseHeader;
}

function toJoseKeyError(e: unknown, what: string): JoseError {
  if (e instanceof JoseError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new JoseError('INVALID_KEY', `${what}: ${detail}`, { cause: e });
}

// ---------------------------------------------------------------- JWS

function algorithmForKey(key: crypto.KeyObject): JwsAlgorithm | undefined {
  if (key.asymmetricKeyType !== 'ec') return undefined;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return (Object.keys(JWS_ALGORITHMS) as JwsAlgorithm[]).find((a) => JWS_ALGORITHMS[a].curve === curve);
}

/**
 * Sign `payload` (Buffer, string, or a value serialised with JSON.stringify).
 * `header.alg` defaults to the key's algorithm (BP256R1 for brainpool keys).
 */
export function signJws(
  payload: Buffer | string | object,
  privateKey: crypto.KeyObject,
  header: Partial<JoseHeader> = {},
): string {
  if (!(privateKey instanceof crypto.KeyObject) || privateKey.type !== 'private') {
    throw new JoseError('INVALID_KEY', 'signing needs a private KeyObject');
  }
  const keyAlg = algorithmForKey(privateKey);
  if (!keyAlg) throw new JoseError('INVALID_KEY', 'key is neither brainpoolP256r1 nor P-256');
  const alg = header.alg ?? keyAlg;
  if (alg !== keyAlg) throw new JoseError('ALG_MISMATCH', `header alg ${JSON.stringify(alg)} does not fit a ${keyAlg} key`);
  const fullHeader = { ...header, alg };
  const payloadBytes = Buffer.isBuffer(payload)
    ? payload
    : typeof payload === 'string'
      ? Buffer.from(payload, 'utf8')
      : Buffer.from(JSON.stringify(payload), 'utf8');
  const signingInput = `${base64UrlEncode(JSON.stringify(fullHeader))}.${base64UrlEncode(payloadBytes)}`;
  const signature = crypto.sign(JWS_ALGORITHMS[alg].hash, Buffer.from(signingInput, 'ascii'), {
    key: privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Split and decode a compact JWS without verifying it (e.g. to read kid/x5c first). */
export function decodeJws(jws: string): DecodedJws {
  const [h, p, s] = splitCompact(jws, 3, 'JWS');
  const header = decodeHeader(h);
  return {
    header,
    payload: base64UrlDecode(p, 'payload'),
    signature: base64UrlDecode(s, 'signature'),
    signingInput: `${h}.${p}`,
  };
}

/** The certificates of the header's x5c (standard base64 DER, leaf first). */
export function x5cCertificates(header: JoseHeader): crypto.X509Certificate[] {
  const x5c = header.x5c;
  if (x5c === undefined) return [];
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((c) => typeof c === 'string')) {
    throw new JoseError('INVALID_HEADER', 'x5c must be a non-empty array of strings');
  }
  return x5c.map((c: string, i) => {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(c)) throw new JoseError('BAD_CERTIFICATE', `x5c[${i}] is not base64`);
    try {
      return new crypto.X509Certificate(Buffer.from(c, 'base64'));
    } catch (e) {
      throw new JoseError('BAD_CERTIFICATE', `x5c[${i}] is not an X.509 certificate`, { cause: e });
    }
  });
}

function resolveVerificationKey(key: JwsVerificationKey): { publicKey: crypto.KeyObject; certificate?: crypto.X509Certificate } {
  try {
    if (key instanceof crypto.X509Certificate) return { publicKey: key.publicKey, certificate: key };
    if (key instanceof crypto.KeyObject) {
      if (key.type === 'secret') throw new JoseError('INVALID_KEY', 'a secret key cannot verify a JWS');
      return { publicKey: key.type === 'private' ? crypto.createPublicKey(key) : key };
    }
    if (Buffer.isBuffer(key)) {
      const certificate = new crypto.X509Certificate(key);
      return { publicKey: certificate.publicKey, certificate };
    }
    if (typeof key === 'string') {
      if (key.includes('BEGIN CERTIFICATE')) {
        const certificate = new crypto.X509Certificate(key);
        return { publicKey: certificate.publicKey, certificate };
      }
      return { publicKey: crypto.createPublicKey(key) };
    }
    if (key && typeof key === 'object') return { publicKey: bp256PublicKeyFromJwk(key) };
  } catch (e) {
    throw toJoseKeyError(e, 'unusable verification key');
  }
  throw new JoseError('INVALID_KEY', 'unsupported verification key type');
}

/**
 * Verify a compact JWS. Without `key`, the first certificate of the header's
 * x5c is used (the caller still has to validate that certificate's chain and
 * role: returned as `certificate`).
 */
export function verifyJws(jws: string, key?: JwsVerificationKey, opts: JwsVerifyOptions = {}): VerifiedJws {
  const decoded = decodeJws(jws);
  const allowed = opts.algorithms ?? ['BP256R1'];
  const alg = decoded.header.alg;
  if (!(alg in JWS_ALGORITHMS)) throw new JoseError('UNSUPPORTED_ALG', `unsupported JWS alg ${JSON.stringify(alg)}`);
  if (!allowed.includes(alg as JwsAlgorithm)) throw new JoseError('ALG_MISMATCH', `alg ${alg} not among the accepted ${allowed.join(', ')}`);
  if (opts.typ !== undefined && decoded.header.typ !== opts.typ) {
    throw new JoseError('INVALID_HEADER', `typ ${JSON.stringify(decoded.header.typ)} where ${JSON.stringify(opts.typ)} is required`);
  }
  let resolved: { publicKey: crypto.KeyObject; certificate?: crypto.X509Certificate };
  if (key === undefined) {
    const certs = x5cCertificates(decoded.header);
    if (certs.length === 0) throw new JoseError('NO_KEY', 'no verification key given and no x5c in the header');
    resolved = { publicKey: certs[0].publicKey, certificate: certs[0] };
  } else {
    resolved = resolveVerificationKey(key);
  }
  const spec = JWS_ALGORITHMS[alg as JwsAlgorithm];
  if (algorithmForKey(resolved.publicKey) !== alg) {
    throw new JoseError('ALG_MISMATCH', `alg ${alg} does not fit the verification key`);
  }
  if (decoded.signature.length !== spec.signatureLength) {
    throw new JoseError('BAD_SIGNATURE', `${alg} signature must be ${spec.signatureLength} bytes, got ${decoded.signature.length}`);
  }
  let ok = false;
  try {
    ok = crypto.verify(
      spec.hash,
      Buffer.from(decoded.signingInput, 'ascii'),
      { key: resolved.publicKey, dsaEncoding: 'ieee-p1363' },
      decoded.signature,
    );
  } catch {
    ok = false;
  }
  if (!ok) throw new JoseError('BAD_SIGNATURE', 'JWS signature does not verify');
  return { ...decoded, certificate: resolved.certificate };
}

// ---------------------------------------------------------------- JWE shared parts

const GCM_IV_LENGTH = 12;
const GCM_TAG_LENGTH = 16;
const A256GCM_KEY_LENGTH = 32;

export interface DecryptedJwe {
  header: JoseHeader;
  plaintext: Buffer;
}

export interface JweEncryptOptions {
  /** Extra protected-header parameters (kid, cty, typ, exp, ...). alg/enc/epk are set by the function. */
  header?: Record<string, unknown>;
  /** Fixed IV (12 bytes) for known-answer tests; random otherwise. */
  iv?: Buffer;
}

export interface EcdhEsEncryptOptions extends JweEncryptOptions {
  /** Fixed ephemeral key for tests; fresh otherwise. */
  ephemeralPrivateKey?: crypto.KeyObject;
  apu?: Buffer;
  apv?: Buffer;
}

/** Decode the protected header of a compact JWE (no decryption). */
export function decodeJweHeader(jwe: string): JoseHeader {
  return decodeHeader(splitCompact(jwe, 5, 'JWE')[0]);
}

function gcmSeal(key: Buffer, iv: Buffer, plaintext: Buffer, aad: Buffer): { ciphertext: Buffer; tag: Buffer } {
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_LENGTH });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

function gcmOpen(key: Buffer, iv: Buffer, ciphertext: Buffer, tag: Buffer, aad: Buffer): Buffer {
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_LENGTH });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (e) {
    throw new JoseError('DECRYPTION_FAILED', 'AES-GCM authentication failed', { cause: e });
  }
}

function toPlainBuffer(plaintext: Buffer | string): Buffer {
  if (typeof plaintext === 'string') return Buffer.from(plaintext, 'utf8');
  if (!Buffer.isBuffer(plaintext)) throw new JoseError('MALFORMED', 'plaintext must be a Buffer or string');
  return plaintext;
}

function checkIv(iv: Buffer | undefined): Buffer {
  if (iv === undefined) return crypto.randomBytes(GCM_IV_LENGTH);
  if (!Buffer.isBuffer(iv) || iv.length !== GCM_IV_LENGTH) throw new JoseError('INVALID_IV', 'IV must be 12 bytes');
  return iv;
}

function assemble(header: Record<string, unknown>, key: Buffer, iv: Buffer, plaintext: Buffer): string {
  const h = base64UrlEncode(JSON.stringify(header));
  const { ciphertext, tag } = gcmSeal(key, iv, plaintext, Buffer.from(h, 'ascii'));
  return `${h}..${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${tag.toString('base64url')}`;
}

interface SplitJwe {
  headerB64: string;
  header: JoseHeader;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

function splitJwe(jwe: string, expectedAlg: string): SplitJwe {
  const [h, ek, ivB64, ctB64, tagB64] = splitCompact(jwe, 5, 'JWE');
  const header = decodeHeader(h);
  if (header.alg !== expectedAlg) throw new JoseError('ALG_MISMATCH', `JWE alg ${JSON.stringify(header.alg)} where ${expectedAlg} is required`);
  if (header.enc !== 'A256GCM') throw new JoseError('UNSUPPORTED_ENC', `JWE enc ${JSON.stringify(header.enc)} is not supported (A256GCM only)`);
  if (header.zip !== undefined) throw new JoseError('UNSUPPORTED_HEADER', 'compressed JWE ("zip") is not supported');
  if (ek !== '') throw new JoseError('MALFORMED', `${expectedAlg} JWE must have an empty encrypted key`);
  const iv = base64UrlDecode(ivB64, 'IV');
  if (iv.length !== GCM_IV_LENGTH) throw new JoseError('INVALID_IV', `IV must be 12 bytes, got ${iv.length}`);
  const tag = base64UrlDecode(tagB64, 'authentication tag');
  if (tag.length !== GCM_TAG_LENGTH) throw new JoseError('INVALID_TAG', `authentication tag must be 16 bytes, got ${tag.length}`);
  return { headerB64: h, header, iv, ciphertext: base64UrlDecode(ctB64, 'ciphertext'), tag };
}

// ---------------------------------------------------------------- JWE ECDH-ES + A256GCM

/** Concat KDF (NIST SP 800-56A, single-step, SHA-256) as profiled by RFC 7518 §4.6.2. */
export function concatKdf(z: Buffer, keyDataLenBits: number, algorithmId: string, apu: Buffer = Buffer.alloc(0), apv: Buffer = Buffer.alloc(0)): Buffer {
  if (!Number.isInteger(keyDataLenBits) || keyDataLenBits <= 0 || keyDataLenBits % 8 !== 0 || keyDataLenBits > 8192) {
    throw new JoseError('INVALID_KEY', `unsupported key length ${keyDataLenBits} bits`);
  }
  const lengthPrefixed = (b: Buffer): Buffer => {
    const l = Buffer.alloc(4);
    l.writeUInt32BE(b.length);
    return Buffer.concat([l, b]);
  };
  const suppPubInfo = Buffer.alloc(4);
  suppPubInfo.writeUInt32BE(keyDataLenBits);
  const otherInfo = Buffer.concat([lengthPrefixed(Buffer.from(algorithmId, 'ascii')), lengthPrefixed(apu), lengthPrefixed(apv), suppPubInfo]);
  const out: Buffer[] = [];
  const rounds = Math.ceil(keyDataLenBits / 256);
  for (let i = 1; i <= rounds; i++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(i);
    out.push(crypto.createHash('sha256').update(counter).update(z).update(otherInfo).digest());
  }
  return Buffer.concat(out).subarray(0, keyDataLenBits / 8);
}

/** Encrypt for a BP-256 recipient key (KeyObject, JWK, point). */
export function encryptJweEcdhEs(plaintext: Buffer | string, recipient: Bp256PublicKeyInput, opts: EcdhEsEncryptOptions = {}): string {
  let recipientKey: crypto.KeyObject;
  try {
    recipientKey = toBp256PublicKey(recipient);
  } catch (e) {
    throw toJoseKeyError(e, 'recipient key');
  }
  const ephemeral = opts.ephemeralPrivateKey ?? generateBp256KeyPair().privateKey;
  if (!isBp256Key(ephemeral) || ephemeral.type !== 'private') throw new JoseError('INVALID_KEY', 'ephemeral key must be a brainpoolP256r1 private key');
  const z = crypto.diffieHellman({ privateKey: ephemeral, publicKey: recipientKey });
  const header: Record<string, unknown> = { alg: 'ECDH-ES', enc: 'A256GCM', ...(opts.header ?? {}) };
  header.alg = 'ECDH-ES';
  header.enc = 'A256GCM';
  header.epk = bp256PublicKeyToJwk(ephemeral);
  if (opts.apu) header.apu = opts.apu.toString('base64url');
  if (opts.apv) header.apv = opts.apv.toString('base64url');
  const cek = concatKdf(z, 256, 'A256GCM', opts.apu, opts.apv);
  return assemble(header, cek, checkIv(opts.iv), toPlainBuffer(plaintext));
}

/** Decrypt an ECDH-ES + A256GCM JWE with the recipient's BP-256 private key. */
export function decryptJweEcdhEs(jwe: string, recipientPrivateKey: crypto.KeyObject): DecryptedJwe {
  if (!isBp256Key(recipientPrivateKey) || recipientPrivateKey.type !== 'private') {
    throw new JoseError('INVALID_KEY', 'recipient key must be a brainpoolP256r1 private key');
  }
  const parts = splitJwe(jwe, 'ECDH-ES');
  let epk: crypto.KeyObject;
  try {
    epk = bp256PublicKeyFromJwk(parts.header.epk);
  } catch (e) {
    throw toJoseKeyError(e, 'header epk');
  }
  const apu = parts.header.apu === undefined ? undefined : base64UrlDecode(String(parts.header.apu), 'apu');
  const apv = parts.header.apv === undefined ? undefined : base64UrlDecode(String(parts.header.apv), 'apv');
  const z = crypto.diffieHellman({ privateKey: recipientPrivateKey, publicKey: epk });
  const cek = concatKdf(z, 256, 'A256GCM', apu, apv);
  return { header: parts.header, plaintext: gcmOpen(cek, parts.iv, parts.ciphertext, parts.tag, Buffer.from(parts.headerB64, 'ascii')) };
}

// ---------------------------------------------------------------- JWE dir + A256GCM

function secretKeyBytes(key: Buffer | crypto.KeyObject): Buffer {
  let bytes: Buffer;
  if (key instanceof crypto.KeyObject) {
    if (key.type !== 'secret') throw new JoseError('INVALID_KEY', 'dir needs a symmetric key');
    bytes = key.export();
  } else if (Buffer.isBuffer(key)) {
    bytes = key;
  } else {
    throw new JoseError('INVALID_KEY', 'dir key must be a Buffer or secret KeyObject');
  }
  if (bytes.length !== A256GCM_KEY_LENGTH) throw new JoseError('INVALID_KEY', `A256GCM needs a 32-byte key, got ${bytes.length}`);
  return bytes;
}

export function encryptJweDir(plaintext: Buffer | string, key: Buffer | crypto.KeyObject, opts: JweEncryptOptions = {}): string {
  const k = secretKeyBytes(key);
  const header: Record<string, unknown> = { alg: 'dir', enc: 'A256GCM', ...(opts.header ?? {}) };
  header.alg = 'dir';
  header.enc = 'A256GCM';
  return assemble(header, k, checkIv(opts.iv), toPlainBuffer(plaintext));
}

export function decryptJweDir(jwe: string, key: Buffer | crypto.KeyObject): DecryptedJwe {
  const k = secretKeyBytes(key);
  const parts = splitJwe(jwe, 'dir');
  return { header: parts.header, plaintext: gcmOpen(k, parts.iv, parts.ciphertext, parts.tag, Buffer.from(parts.headerB64, 'ascii')) };
}

// ---------------------------------------------------------------- JWK thumbprint

/** RFC 7638 SHA-256 thumbprint of an EC JWK (BP-256 or P-256), base64url. */
export function ecJwkThumbprint(jwk: { kty: string; crv: string; x: string; y: string }): string {
  if (!jwk || jwk.kty !== 'EC' || typeof jwk.crv !== 'string' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
    throw new JoseError('INVALID_KEY', 'EC JWK with crv, x, y required');
  }
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return crypto.createHash('sha256').update(canonical, 'utf8').digest('base64url');
}

// Re-exported so callers can `instanceof` without a second import.
export { JoseError, type JoseErrorCode };
