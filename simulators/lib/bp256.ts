/**
 * brainpoolP256r1 key helpers (the TI's curve for ECDSA and ECDH).
 *
 * Keys are node:crypto KeyObjects. Node knows the curve but cannot import or
 * export brainpool JWKs, so JWK <-> key conversion goes through hand-built
 * SPKI / PKCS#8 DER here. JWK form as used in the TI (IDP, VAU, ePA):
 * `{ kty: "EC", crv: "BP-256", x, y[, d] }` with 32-byte big-endian base64url
 * coordinates.
 *
 * Signatures: `raw` = r || s (64 bytes, JOSE style), `der` = ECDSA-Sig-Value
 * SEQUENCE { r INTEGER, s INTEGER } (X.509/CMS style).
 *
 * bp256SignDigest/bp256VerifyDigest work on an already computed hash (what a
 * smart card's PSO COMPUTE DIGITAL SIGNATURE receives); node:crypto always
 * hashes itself, so these two are plain BigInt arithmetic on the curve. They
 * are not constant-time: fine for a simulator, not for production keys.
 */
import * as crypto from 'node:crypto';
import { CryptoFormatError } from './crypto-errors';
import {
  derBitString,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  derExplicit,
  parseBer,
  readBitString,
  readOctetString,
  readOid,
  readUnsignedIntegerBytes,
} from './der';

/** OID of brainpoolP256r1 (RFC 5639). */
export const BRAINPOOL_P256R1_OID = '1.3.36.3.3.2.8.1.1.7';
/** id-ecPublicKey (RFC 5480). */
export const EC_PUBLIC_KEY_OID = '1.2.840.10045.2.1';
/** Curve name for node:crypto / OpenSSL. */
export const BP256_CURVE_NAME = 'brainpoolP256r1';
/** JWK "crv" value used by gematik for brainpoolP256r1. */
export const BP256_JWK_CRV = 'BP-256';

const COORDINATE_SIZE = 32;

/** Curve domain parameters (RFC 5639 §3.4). */
const CURVE = {
  p: 0xa9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377n,
  a: 0x7d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9n,
  b: 0x26dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b6n,
  gx: 0x8bd2aeb9cb7e57cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262n,
  gy: 0x547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f046997n,
  n: 0xa9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7n,
} as const;

export interface EcPoint {
  /** 32-byte big-endian X coordinate. */
  x: Buffer;
  /** 32-byte big-endian Y coordinate. */
  y: Buffer;
}

export interface Bp256PublicJwk {
  kty: 'EC';
  crv: 'BP-256';
  x: string;
  y: string;
  [extra: string]: unknown;
}

export interface Bp256PrivateJwk extends Bp256PublicJwk {
  d: string;
}

export interface Bp256KeyPair {
  privateKey: crypto.KeyObject;
  publicKey: crypto.KeyObject;
}

export type SignatureFormat = 'raw' | 'der';

/** Anything that names a brainpoolP256r1 public key. */
export type Bp256PublicKeyInput = crypto.KeyObject | Bp256PublicJwk | EcPoint | Buffer;

// ---------------------------------------------------------------- key generation / checks

export function generateBp256KeyPair(): Bp256KeyPair {
  return crypto.generateKeyPairSync('ec', { namedCurve: BP256_CURVE_NAME });
}

export function isBp256Key(key: unknown): key is crypto.KeyObject {
  return (
    key instanceof crypto.KeyObject &&
    key.type !== 'secret' &&
    key.asymmetricKeyType === 'ec' &&
    key.asymmetricKeyDetails?.namedCurve === BP256_CURVE_NAME
  );
}

/** Throws INVALID_KEY unless `key` is a brainpoolP256r1 key of the given type. */
export function assertBp256Key(key: unknown, type: 'public' | 'private'): asserts key is crypto.KeyObject {
  if (!isBp256Key(key)) throw new CryptoFormatError('INVALID_KEY', 'not a brainpoolP256r1 key');
  if (key.type !== type) throw new CryptoFormatError('INVALID_KEY', `expected a ${type} key, got a ${key.type} key`);
}

// ---------------------------------------------------------------- signature encodings

/** r || s (2*size bytes) -> DER ECDSA-Sig-Value. */
export function ecdsaRawToDer(raw: Buffer, size = COORDINATE_SIZE): Buffer {
  if (!Buffer.isBuffer(raw) || raw.length !== 2 * size) {
    throw new CryptoFormatError('INVALID_SIGNATURE_ENCODING', `raw ECDSA signature must be ${2 * size} bytes, got ${raw?.length}`);
  }
  return derSequence(derInteger(raw.subarray(0, size)), derInteger(raw.subarray(size)));
}

/** DER ECDSA-Sig-Value -> r || s (2*size bytes). */
export function ecdsaDerToRaw(der: Buffer, size = COORDINATE_SIZE): Buffer {
  try {
    const seq = parseBer(der, { maxSize: 1024 }).expectSequence('ECDSA-Sig-Value');
    if (seq.children.length !== 2 || seq.indefinite) throw new CryptoFormatError('INVALID_DER', 'ECDSA-Sig-Value must hold exactly r and s');
    const r = readUnsignedIntegerBytes(seq.child(0), 'r');
    const s = readUnsignedIntegerBytes(seq.child(1), 's');
    if (r.length > size || s.length > size) throw new CryptoFormatError('INVALID_VALUE', `r or s longer than ${size} bytes`);
    return Buffer.concat([leftPad(r, size), leftPad(s, size)]);
  } catch (e) {
    if (e instanceof CryptoFormatError) {
      throw new CryptoFormatError('INVALID_SIGNATURE_ENCODING', `not a DER ECDSA signature (${e.message})`, { cause: e });
    }
    throw e;
  }
}

// ---------------------------------------------------------------- sign / verify (node:crypto, SHA-256)

/** ECDSA-SHA256 over `data`. */
export function bp256Sign(data: Buffer | string, privateKey: crypto.KeyObject, format: SignatureFormat = 'raw'): Buffer {
  assertBp256Key(privateKey, 'private');
  return crypto.sign('sha256', toBuffer(data), { key: privateKey, dsaEncoding: format === 'raw' ? 'ieee-p1363' : 'der' });
}

/** Verify ECDSA-SHA256; malformed signatures give false, not an exception. */
export function bp256Verify(
  data: Buffer | string,
  signature: Buffer,
  publicKey: crypto.KeyObject,
  format: SignatureFormat = 'raw',
): boolean {
  if (!isBp256Key(publicKey)) throw new CryptoFormatError('INVALID_KEY', 'not a brainpoolP256r1 key');
  if (!Buffer.isBuffer(signature)) return false;
  if (format === 'raw' && signature.length !== 2 * COORDINATE_SIZE) return false;
  try {
    return crypto.verify('sha256', toBuffer(data), { key: publicKey, dsaEncoding: format === 'raw' ? 'ieee-p1363' : 'der' }, signature);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- ECDH

/** Raw ECDH shared secret (X coordinate, 32 bytes). */
export function bp256Ecdh(privateKey: crypto.KeyObject, publicKey: crypto.KeyObject): Buffer {
  assertBp256Key(privateKey, 'private');
  assertBp256Key(publicKey, 'public');
  return leftPad(crypto.diffieHellman({ privateKey, publicKey }), COORDINATE_SIZE);
}

// ---------------------------------------------------------------- public key <-> point / JWK / SPKI

/** Public key from X/Y coordinates (or a 65-byte uncompressed point 04||X||Y); rejects points off the curve. */
export function bp256PublicKeyFromPoint(point: EcPoint | Buffer): crypto.KeyObject {
  const encoded = Buffer.isBuffer(point) ? point : encodePoint(point);
  if (encoded.length !== 1 + 2 * COORDINATE_SIZE || encoded[0] !== 0x04) {
    throw new CryptoFormatError('INVALID_KEY', 'expected an uncompressed point 04||X||Y of 65 bytes');
  }
  const spki = derSequence(derSequence(derOid(EC_PUBLIC_KEY_OID), derOid(BRAINPOOL_P256R1_OID)), derBitString(encoded));
  try {
    return crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (e) {
    throw new CryptoFormatError('INVALID_KEY', 'point is not on brainpoolP256r1', { cause: e });
  }
}

function encodePoint(p: EcPoint): Buffer {
  if (!Buffer.isBuffer(p?.x) || !Buffer.isBuffer(p?.y) || p.x.length !== COORDINATE_SIZE || p.y.length !== COORDINATE_SIZE) {
    throw new CryptoFormatError('INVALID_KEY', 'x and y must be 32-byte Buffers');
  }
  return Buffer.concat([Buffer.from([0x04]), p.x, p.y]);
}

/** X/Y of a public key (a private key gives its public point). */
export function bp256PointFromKey(key: crypto.KeyObject): EcPoint {
  if (!isBp256Key(key)) throw new CryptoFormatError('INVALID_KEY', 'not a brainpoolP256r1 key');
  const pub = key.type === 'private' ? crypto.createPublicKey(key) : key;
  const spki = pub.export({ type: 'spki', format: 'der' });
  const seq = parseBer(spki).expectSequence('SubjectPublicKeyInfo');
  let point = readBitString(seq.child(1, 'subjectPublicKey')).bytes;
  if (point[0] !== 0x04) point = crypto.ECDH.convertKey(point, BP256_CURVE_NAME, undefined, undefined, 'uncompressed') as Buffer;
  if (point.length !== 1 + 2 * COORDINATE_SIZE) throw new CryptoFormatError('INVALID_KEY', 'unexpected public point length');
  return { x: Buffer.from(point.subarray(1, 33)), y: Buffer.from(point.subarray(33, 65)) };
}

/** 65-byte uncompressed point 04||X||Y. */
export function bp256UncompressedPoint(key: crypto.KeyObject): Buffer {
  return encodePoint(bp256PointFromKey(key));
}

export function bp256PublicKeyToJwk(key: crypto.KeyObject): Bp256PublicJwk {
  const { x, y } = bp256PointFromKey(key);
  return { kty: 'EC', crv: BP256_JWK_CRV, x: x.toString('base64url'), y: y.toString('base64url') };
}

export function bp256PublicKeyFromJwk(jwk: unknown): crypto.KeyObject {
  const j = checkJwkShape(jwk);
  return bp256PublicKeyFromPoint({ x: decodeCoordinate(j.x, 'x'), y: decodeCoordinate(j.y, 'y') });
}

/** Normalise any supported public-key form to a KeyObject. */
export function toBp256PublicKey(input: Bp256PublicKeyInput): crypto.KeyObject {
  if (input instanceof crypto.KeyObject) {
    assertBp256Key(input, input.type === 'private' ? 'private' : 'public');
    return input.type === 'private' ? crypto.createPublicKey(input) : input;
  }
  if (Buffer.isBuffer(input)) return bp256PublicKeyFromPoint(input);
  if (input && typeof input === 'object' && 'kty' in input) return bp256PublicKeyFromJwk(input);
  return bp256PublicKeyFromPoint(input as EcPoint);
}

// ---------------------------------------------------------------- private key <-> raw d / JWK

/** Private key from the raw 32-byte scalar d (1 <= d < n). */
export function bp256PrivateKeyFromRaw(d: Buffer): crypto.KeyObject {
  if (!Buffer.isBuffer(d) || d.length !== COORDINATE_SIZE) throw new CryptoFormatError('INVALID_KEY', 'd must be a 32-byte Buffer');
  let publicPoint: Buffer;
  try {
    const ecdh = crypto.createECDH(BP256_CURVE_NAME);
    ecdh.setPrivateKey(d);
    publicPoint = ecdh.getPublicKey();
  } catch (e) {
    throw new CryptoFormatError('INVALID_KEY', 'd is not a valid brainpoolP256r1 private scalar', { cause: e });
  }
  const ecPrivateKey = derSequence(derInteger(1), derOctetString(d), derExplicit(1, derBitString(publicPoint)));
  const pkcs8 = derSequence(
    derInteger(0),
    derSequence(derOid(EC_PUBLIC_KEY_OID), derOid(BRAINPOOL_P256R1_OID)),
    derOctetString(ecPrivateKey),
  );
  return crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

/** The raw 32-byte scalar d of a private key. */
export function bp256PrivateKeyToRaw(key: crypto.KeyObject): Buffer {
  assertBp256Key(key, 'private');
  const pkcs8 = parseBer(key.export({ type: 'pkcs8', format: 'der' })).expectSequence('PrivateKeyInfo');
  const algorithm = pkcs8.child(1).expectSequence('AlgorithmIdentifier');
  if (readOid(algorithm.child(1)) !== BRAINPOOL_P256R1_OID) throw new CryptoFormatError('UNEXPECTED_OID', 'not brainpoolP256r1');
  const ecPrivateKey = parseBer(readOctetString(pkcs8.child(2))).expectSequence('ECPrivateKey');
  const d = readOctetString(ecPrivateKey.child(1));
  if (d.length > COORDINATE_SIZE) throw new CryptoFormatError('INVALID_KEY', 'private scalar longer than 32 bytes');
  return leftPad(d, COORDINATE_SIZE);
}

export function bp256PrivateKeyToJwk(key: crypto.KeyObject): Bp256PrivateJwk {
  const d = bp256PrivateKeyToRaw(key);
  return { ...bp256PublicKeyToJwk(key), d: d.toString('base64url') };
}

/** Private key from a JWK with d; x/y, if given, must match d. */
export function bp256PrivateKeyFromJwk(jwk: unknown): crypto.KeyObject {
  const j = checkJwkShape(jwk);
  if (typeof (j as { d?: unknown }).d !== 'string') throw new CryptoFormatError('INVALID_KEY', 'JWK has no "d"');
  const key = bp256PrivateKeyFromRaw(decodeCoordinate((j as Bp256PrivateJwk).d, 'd'));
  const { x, y } = bp256PointFromKey(key);
  if (!x.equals(decodeCoordinate(j.x, 'x')) || !y.equals(decodeCoordinate(j.y, 'y'))) {
    throw new CryptoFormatError('INVALID_KEY', 'JWK x/y do not belong to d');
  }
  return key;
}

function checkJwkShape(jwk: unknown): Bp256PublicJwk {
  if (!jwk || typeof jwk !== 'object') throw new CryptoFormatError('INVALID_KEY', 'JWK must be an object');
  const j = jwk as Record<string, unknown>;
  if (j.kty !== 'EC') throw new CryptoFormatError('INVALID_KEY', `JWK kty must be "EC", got ${JSON.stringify(j.kty)}`);
  if (j.crv !== BP256_JWK_CRV) throw new CryptoFormatError('INVALID_KEY', `JWK crv must be "BP-256", got ${JSON.stringify(j.crv)}`);
  if (typeof j.x !== 'string' || typeof j.y !== 'string') throw new CryptoFormatError('INVALID_KEY', 'JWK x and y must be strings');
  return j as Bp256PublicJwk;
}

function decodeCoordinate(s: string, name: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new CryptoFormatError('INVALID_KEY', `JWK ${name} is not base64url`);
  const b = Buffer.from(s, 'base64url');
  if (b.length !== COORDINATE_SIZE) throw new CryptoFormatError('INVALID_KEY', `JWK ${name} must decode to 32 bytes, got ${b.length}`);
  return b;
}

// ---------------------------------------------------------------- ECDSA over a given digest (BigInt)

interface Jacobian {
  x: bigint;
  y: bigint;
  z: bigint;
}

const INFINITY: Jacobian = { x: 1n, y: 1n, z: 0n };

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

/** Inverse modulo a prime. */
function modInv(a: bigint, m: bigint): bigint {
  return modPow(a, m - 2n, m);
}

function pointDouble(P: Jacobian): Jacobian {
  const { p, a } = CURVE;
  if (P.z === 0n || P.y === 0n) return INFINITY;
  const yy = (P.y * P.y) % p;
  const s = (4n * P.x * yy) % p;
  const zz = (P.z * P.z) % p;
  const m = mod(3n * P.x * P.x + a * zz * zz, p);
  const x3 = mod(m * m - 2n * s, p);
  const y3 = mod(m * (s - x3) - 8n * yy * yy, p);
  const z3 = (2n * P.y * P.z) % p;
  return { x: x3, y: y3, z: z3 };
}

function pointAdd(P: Jacobian, Q: Jacobian): Jacobian {
  const { p } = CURVE;
  if (P.z === 0n) return Q;
  if (Q.z === 0n) return P;
  const z1z1 = (P.z * P.z) % p;
  const z2z2 = (Q.z * Q.z) % p;
  const u1 = (P.x * z2z2) % p;
  const u2 = (Q.x * z1z1) % p;
  const s1 = (P.y * Q.z * z2z2) % p;
  const s2 = (Q.y * P.z * z1z1) % p;
  if (u1 === u2) return s1 === s2 ? pointDouble(P) : INFINITY;
  const h = mod(u2 - u1, p);
  const r = mod(s2 - s1, p);
  const hh = (h * h) % p;
  const hhh = (hh * h) % p;
  const x3 = mod(r * r - hhh - 2n * u1 * hh, p);
  const y3 = mod(r * (u1 * hh - x3) - s1 * hhh, p);
  const z3 = (h * P.z * Q.z) % p;
  return { x: x3, y: y3, z: z3 };
}

function scalarMult(k: bigint, P: Jacobian): Jacobian {
  let R = INFINITY;
  for (let i = BigInt(k.toString(2).length - 1); i >= 0n; i--) {
    R = pointDouble(R);
    if ((k >> i) & 1n) R = pointAdd(R, P);
  }
  return R;
}

function affineX(P: Jacobian): bigint {
  const zInv = modInv(P.z, CURVE.p);
  return (P.x * zInv * zInv) % CURVE.p;
}

const G: Jacobian = { x: CURVE.gx, y: CURVE.gy, z: 1n };

function digestToInt(digest: Buffer): bigint {
  if (!Buffer.isBuffer(digest) || digest.length === 0 || digest.length > 64) {
    throw new CryptoFormatError('INVALID_VALUE', 'digest must be a Buffer of 1..64 bytes');
  }
  // FIPS 186-4 6.4: use the leftmost bitlen(n) = 256 bits of the hash.
  const used = digest.length > COORDINATE_SIZE ? digest.subarray(0, COORDINATE_SIZE) : digest;
  return BigInt(`0x${used.toString('hex')}`);
}

function randomScalar(): bigint {
  for (;;) {
    const k = BigInt(`0x${crypto.randomBytes(COORDINATE_SIZE).toString('hex')}`);
    if (k > 0n && k < CURVE.n) return k;
  }
}

function bigintTo32(v: bigint): Buffer {
  return Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
}

/** ECDSA over a precomputed digest (e.g. SHA-256 of signed attributes); returns raw r||s unless format 'der'. */
export function bp256SignDigest(digest: Buffer, privateKey: crypto.KeyObject, format: SignatureFormat = 'raw'): Buffer {
  const d = BigInt(`0x${bp256PrivateKeyToRaw(privateKey).toString('hex')}`);
  const e = digestToInt(digest);
  const { n } = CURVE;
  for (;;) {
    const k = randomScalar();
    const r = mod(affineX(scalarMult(k, G)), n);
    if (r === 0n) continue;
    const s = mod(modInv(k, n) * (e + r * d), n);
    if (s === 0n) continue;
    const raw = Buffer.concat([bigintTo32(r), bigintTo32(s)]);
    return format === 'raw' ? raw : ecdsaRawToDer(raw);
  }
}

/** Verify ECDSA over a precomputed digest. */
export function bp256VerifyDigest(digest: Buffer, signature: Buffer, publicKey: crypto.KeyObject, format: SignatureFormat = 'raw'): boolean {
  let raw: Buffer;
  try {
    raw = format === 'raw' ? signature : ecdsaDerToRaw(signature);
  } catch {
    return false;
  }
  if (!Buffer.isBuffer(raw) || raw.length !== 2 * COORDINATE_SIZE) return false;
  const { x, y } = bp256PointFromKey(publicKey);
  const { n } = CURVE;
  const r = BigInt(`0x${raw.subarray(0, 32).toString('hex')}`);
  const s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  if (r <= 0n || r >= n || s <= 0n || s >= n) return false;
  const e = digestToInt(digest);
  const w = modInv(s, n);
  const Q: Jacobian = { x: BigInt(`0x${x.toString('hex')}`), y: BigInt(`0x${y.toString('hex')}`), z: 1n };
  const X = pointAdd(scalarMult(mod(e * w, n), G), scalarMult(mod(r * w, n), Q));
  if (X.z === 0n) return false;
  return mod(affineX(X), n) === r;
}

// ---------------------------------------------------------------- helpers

function toBuffer(data: Buffer | string): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (!Buffer.isBuffer(data)) throw new CryptoFormatError('INVALID_VALUE', 'data must be a Buffer or string');
  return data;
}

function leftPad(b: Buffer, size: number): Buffer {
  if (b.length >= size) return b.subarray(b.length - size);
  return Buffer.concat([Buffer.alloc(size - b.length), b]);
}

/** Exposed for tests and other modules that need curve-level facts. */
export const BP256_ORDER = CURVE.n;
