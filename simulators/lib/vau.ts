/**
 * E-Rezept VAU transport (gemSpec_Krypt ch. 7, api-erp docs/authentisieren.adoc "VAU-Transport").
 *
 * Outer envelope (client -> VAU), ECIES on brainpoolP256r1:
 *   0x01 || X(32) || Y(32) || IV(12) || AES-128-GCM ciphertext || tag(16)
 * where X/Y is the client's ephemeral public key, the AES key is
 * HKDF-SHA256(ikm = ECDH shared secret (32 bytes), salt = empty,
 * info = "ecies-vau-transport", L = 16).
 *
 * Inner request (the ECIES plaintext), fields separated by one space:
 *   "1" SP <ACCESS_TOKEN> SP <request id: 32 hex> SP <response key: 32 hex> SP <HTTP request>
 * Inner response, encrypted with AES-128-GCM under the response key as
 * IV(12) || ciphertext || tag(16):
 *   "1" SP <request id> SP <HTTP response>
 */
import * as crypto from 'node:crypto';
import { VauError } from './crypto-errors';
import {
  bp256PointFromKey,
  bp256PublicKeyFromPoint,
  generateBp256KeyPair,
  isBp256Key,
  toBp256PublicKey,
  type Bp256PublicKeyInput,
} from './bp256';

export const VAU_ECIES_VERSION = 0x01;
export const VAU_HKDF_INFO = 'ecies-vau-transport';
/** Upper bound for any VAU message or inner plaintext handled here (10 MiB). */
export const MAX_VAU_MESSAGE_SIZE = 10 * 1024 * 1024;

const COORD = 32;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const AES_KEY_LENGTH = 16;
const ENVELOPE_HEADER = 1 + 2 * COORD + IV_LENGTH;
const MIN_ENVELOPE = ENVELOPE_HEADER + TAG_LENGTH;
const HEX32 = /^[0-9a-fA-F]{32}$/;

// ---------------------------------------------------------------- ECIES envelope

export interface VauEncryptOptions {
  /** Fixed ephemeral key (known-answer tests); fresh otherwise. */
  ephemeralPrivateKey?: crypto.KeyObject;
  /** Fixed IV of 12 bytes (known-answer tests); random otherwise. */
  iv?: Buffer;
}

/**
 * Computes the ECDH shared secret with the ephemeral public key of a message.
 * Lets the VAU key live elsewhere (HSM simulation) or tests decrypt from the
 * sender side.
 */
export type VauKeyAgreement = (ephemeralPublicKey: crypto.KeyObject) => Buffer;

export interface VauEnvelope {
  version: number;
  ephemeralPublicKey: crypto.KeyObject;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** HKDF-SHA256(shared secret, salt = empty, info = "ecies-vau-transport") -> 16-byte AES key. */
export function deriveVauTransportKey(sharedSecret: Buffer): Buffer {
  if (!Buffer.isBuffer(sharedSecret) || sharedSecret.length !== COORD) throw new VauError('INVALID_KEY', 'shared secret must be 32 bytes');
  return Buffer.from(crypto.hkdfSync('sha256', sharedSecret, Buffer.alloc(0), Buffer.from(VAU_HKDF_INFO, 'ascii'), AES_KEY_LENGTH));
}

function checkSize(b: unknown, what: string): Buffer {
  if (!Buffer.isBuffer(b)) throw new VauError('EMPTY_INPUT', `${what} must be a Buffer`);
  if (b.length === 0) throw new VauError('EMPTY_INPUT', `${what} is empty`);
  if (b.length > MAX_VAU_MESSAGE_SIZE) throw new VauError('TOO_LARGE', `${what} of ${b.length} bytes exceeds ${MAX_VAU_MESSAGE_SIZE}`);
  return b;
}

function toBytes(v: Buffer | string, what: string): Buffer {
  const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  if (!Buffer.isBuffer(b)) throw new VauError('EMPTY_INPUT', `${what} must be a Buffer or string`);
  if (b.length > MAX_VAU_MESSAGE_SIZE) throw new VauError('TOO_LARGE', `${what} of ${b.length} bytes exceeds ${MAX_VAU_MESSAGE_SIZE}`);
  return b;
}

function pad32(b: Buffer): Buffer {
  if (b.length === COORD) return b;
  if (b.length > COORD) return b.subarray(b.length - COORD);
  return Buffer.concat([Buffer.alloc(COORD - b.length), b]);
}

/** ECIES-encrypt a request for the VAU public key. */
export function vauEncrypt(plaintext: Buffer | string, vauPublicKey: Bp256PublicKeyInput, opts: VauEncryptOptions = {}): Buffer {
  const data = toBytes(plaintext, 'plaintext');
  let recipient: crypto.KeyObject;
  try {
    recipient = toBp256PublicKey(vauPublicKey);
  } catch (e) {
    throw new VauError('INVALID_PUBLIC_KEY', 'VAU public key is not a brainpoolP256r1 key', { cause: e });
  }
  const ephemeral = opts.ephemeralPrivateKey ?? generateBp256KeyPair().privateKey;
  if (!isBp256Key(ephemeral) || ephemeral.type !== 'private') throw new VauError('INVALID_KEY', 'ephemeral key must be a brainpoolP256r1 private key');
  const iv = opts.iv ?? crypto.randomBytes(IV_LENGTH);
  if (!Buffer.isBuffer(iv) || iv.length !== IV_LENGTH) throw new VauError('INVALID_IV', 'IV must be 12 bytes');
  const key = deriveVauTransportKey(pad32(crypto.diffieHellman({ privateKey: ephemeral, publicKey: recipient })));
  const cipher = crypto.createCipheriv('aes-128-gcm', key, iv, { authTagLength: TAG_LENGTH });
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
  const { x, y } = bp256PointFromKey(ephemeral);
  return Buffer.concat([Buffer.from([VAU_ECIES_VERSION]), x, y, iv, ciphertext, cipher.getAuthTag()]);
}

/** Split an ECIES envelope; validates version and the ephemeral point. */
export function parseVauEnvelope(message: Buffer): VauEnvelope {
  const m = checkSize(message, 'VAU message');
  if (m.length < MIN_ENVELOPE) throw new VauError('TOO_SHORT', `VAU message of ${m.length} bytes is shorter than the minimum ${MIN_ENVELOPE}`);
  if (m[0] !== VAU_ECIES_VERSION) throw new VauError('UNSUPPORTED_VERSION', `VAU message version 0x${m[0].toString(16).padStart(2, '0')}, expected 0x01`);
  let ephemeralPublicKey: crypto.KeyObject;
  try {
    ephemeralPublicKey = bp256PublicKeyFromPoint({ x: m.subarray(1, 1 + COORD), y: m.subarray(1 + COORD, 1 + 2 * COORD) });
  } catch (e) {
    throw new VauError('INVALID_PUBLIC_KEY', 'ephemeral public key is not a point on brainpoolP256r1', { cause: e });
  }
  return {
    version: m[0],
    ephemeralPublicKey,
    iv: m.subarray(1 + 2 * COORD, ENVELOPE_HEADER),
    ciphertext: m.subarray(ENVELOPE_HEADER, m.length - TAG_LENGTH),
    tag: m.subarray(m.length - TAG_LENGTH),
  };
}

/** Decrypt an ECIES envelope with the VAU private key (or a key-agreement callback). */
export function vauDecrypt(message: Buffer, vauPrivateKey: crypto.KeyObject | VauKeyAgreement): Buffer {
  const env = parseVauEnvelope(message);
  let shared: Buffer;
  if (typeof vauPrivateKey === 'function') {
    shared = vauPrivateKey(env.ephemeralPublicKey);
    if (!Buffer.isBuffer(shared)) throw new VauError('INVALID_KEY', 'key agreement did not return a Buffer');
  } else {
    if (!isBp256Key(vauPrivateKey) || vauPrivateKey.type !== 'private') throw new VauError('INVALID_KEY', 'VAU key must be a brainpoolP256r1 private key');
    shared = crypto.diffieHellman({ privateKey: vauPrivateKey, publicKey: env.ephemeralPublicKey });
  }
  return gcmOpen(deriveVauTransportKey(pad32(shared)), env.iv, env.ciphertext, env.tag, 'aes-128-gcm');
}

function gcmOpen(key: Buffer, iv: Buffer, ciphertext: Buffer, tag: Buffer, algorithm: 'aes-128-gcm'): Buffer {
  try {
    const d = crypto.createDecipheriv(algorithm, key, iv, { authTagLength: TAG_LENGTH });
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  } catch (e) {
    throw new VauError('DECRYPTION_FAILED', 'AES-GCM authentication failed', { cause: e });
  }
}

// ---------------------------------------------------------------- inner request

export interface VauInnerRequest {
  accessToken: string;
  /** 32 lowercase hex characters. */
  requestId: string;
  /** 16-byte AES-128 key for the response. */
  responseKey: Buffer;
  /** The complete inner HTTP request (RFC 7230 message bytes). */
  httpRequest: Buffer;
}

export function newVauRequestId(): string {
  return crypto.randomBytes(16).toString('hex');
}

export function newVauResponseKey(): Buffer {
  return crypto.randomBytes(AES_KEY_LENGTH);
}

function checkToken(accessToken: string, err: 'MALFORMED_INNER_REQUEST'): void {
  if (typeof accessToken !== 'string' || accessToken.length === 0 || /[\s]/.test(accessToken) || !/^[\x21-\x7e]+$/.test(accessToken)) {
    throw new VauError(err, 'access token must be non-empty printable ASCII without spaces');
  }
}

function checkRequestId(id: string, err: 'MALFORMED_INNER_REQUEST' | 'MALFORMED_INNER_RESPONSE'): void {
  if (typeof id !== 'string' || !HEX32.test(id)) throw new VauError(err, 'request id must be 32 hex characters');
}

function checkResponseKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== AES_KEY_LENGTH) throw new VauError('INVALID_KEY', 'response key must be 16 bytes (AES-128)');
}

/** "1 <token> <request id> <response key hex> <HTTP request>" */
export function buildVauInnerRequest(r: VauInnerRequest): Buffer {
  checkToken(r.accessToken, 'MALFORMED_INNER_REQUEST');
  checkRequestId(r.requestId, 'MALFORMED_INNER_REQUEST');
  checkResponseKey(r.responseKey);
  const http = toBytes(r.httpRequest, 'HTTP request');
  if (http.length === 0) throw new VauError('MALFORMED_INNER_REQUEST', 'HTTP request is empty');
  const head = `1 ${r.accessToken} ${r.requestId.toLowerCase()} ${r.responseKey.toString('hex')} `;
  return Buffer.concat([Buffer.from(head, 'ascii'), http]);
}

/** Split the first `n` space-separated fields off `b`; the rest stays binary. */
function splitFields(b: Buffer, n: number, err: 'MALFORMED_INNER_REQUEST' | 'MALFORMED_INNER_RESPONSE'): { fields: string[]; rest: Buffer } {
  const fields: string[] = [];
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const sp = b.indexOf(0x20, pos);
    // A token is a few KB at most; refuse to scan megabytes for a missing separator.
    if (sp < 0 || sp - pos > 64 * 1024) throw new VauError(err, `field ${i + 1} is not terminated by a space`);
    fields.push(b.subarray(pos, sp).toString('latin1'));
    pos = sp + 1;
  }
  return { fields, rest: b.subarray(pos) };
}

export function parseVauInnerRequest(plaintext: Buffer): VauInnerRequest {
  let p: Buffer;
  try {
    p = checkSize(plaintext, 'inner request');
  } catch (e) {
    throw new VauError('MALFORMED_INNER_REQUEST', (e as Error).message, { cause: e });
  }
  const { fields, rest } = splitFields(p, 4, 'MALFORMED_INNER_REQUEST');
  const [version, accessToken, requestId, keyHex] = fields;
  if (version !== '1') throw new VauError('MALFORMED_INNER_REQUEST', `inner request version ${JSON.stringify(version.slice(0, 16))}, expected "1"`);
  checkToken(accessToken, 'MALFORMED_INNER_REQUEST');
  checkRequestId(requestId, 'MALFORMED_INNER_REQUEST');
  if (!HEX32.test(keyHex)) throw new VauError('MALFORMED_INNER_REQUEST', 'response key must be 32 hex characters');
  if (rest.length === 0) throw new VauError('MALFORMED_INNER_REQUEST', 'HTTP request is missing');
  return { accessToken, requestId: requestId.toLowerCase(), responseKey: Buffer.from(keyHex, 'hex'), httpRequest: rest };
}

// ---------------------------------------------------------------- inner response

export interface VauInnerResponse {
  requestId: string;
  httpResponse: Buffer;
}

/** "1 <request id> <HTTP response>" */
export function buildVauInnerResponse(requestId: string, httpResponse: Buffer | string): Buffer {
  checkRequestId(requestId, 'MALFORMED_INNER_RESPONSE');
  const http = toBytes(httpResponse, 'HTTP response');
  if (http.length === 0) throw new VauError('MALFORMED_INNER_RESPONSE', 'HTTP response is empty');
  return Buffer.concat([Buffer.from(`1 ${requestId.toLowerCase()} `, 'ascii'), http]);
}

export function parseVauInnerResponse(plaintext: Buffer): VauInnerResponse {
  let p: Buffer;
  try {
    p = checkSize(plaintext, 'inner response');
  } catch (e) {
    throw new VauError('MALFORMED_INNER_RESPONSE', (e as Error).message, { cause: e });
  }
  const { fields, rest } = splitFields(p, 2, 'MALFORMED_INNER_RESPONSE');
  if (fields[0] !== '1') throw new VauError('MALFORMED_INNER_RESPONSE', `inner response version ${JSON.stringify(fields[0].slice(0, 16))}, expected "1"`);
  checkRequestId(fields[1], 'MALFORMED_INNER_RESPONSE');
  if (rest.length === 0) throw new VauError('MALFORMED_INNER_RESPONSE', 'HTTP response is missing');
  return { requestId: fields[1].toLowerCase(), httpResponse: rest };
}

/** AES-128-GCM under the response key: IV(12) || ciphertext || tag(16). */
export function encryptVauResponse(plaintext: Buffer, responseKey: Buffer, opts: { iv?: Buffer } = {}): Buffer {
  checkResponseKey(responseKey);
  const data = toBytes(plaintext, 'response plaintext');
  const iv = opts.iv ?? crypto.randomBytes(IV_LENGTH);
  if (!Buffer.isBuffer(iv) || iv.length !== IV_LENGTH) throw new VauError('INVALID_IV', 'IV must be 12 bytes');
  const c = crypto.createCipheriv('aes-128-gcm', responseKey, iv, { authTagLength: TAG_LENGTH });
  const ct = Buffer.concat([c.update(data), c.final()]);
  return Buffer.concat([iv, ct, c.getAuthTag()]);
}

export function decryptVauResponse(message: Buffer, responseKey: Buffer): Buffer {
  checkResponseKey(responseKey);
  const m = checkSize(message, 'VAU response');
  if (m.length < IV_LENGTH + TAG_LENGTH) throw new VauError('TOO_SHORT', `VAU response of ${m.length} bytes is shorter than IV + tag`);
  return gcmOpen(responseKey, m.subarray(0, IV_LENGTH), m.subarray(IV_LENGTH, m.length - TAG_LENGTH), m.subarray(m.length - TAG_LENGTH), 'aes-128-gcm');
}

// ---------------------------------------------------------------- one-call client/server helpers

export interface CreateVauRequestInput extends VauEncryptOptions {
  vauPublicKey: Bp256PublicKeyInput;
  accessToken: string;
  httpRequest: Buffer | string;
  requestId?: string;
  responseKey?: Buffer;
}

/** Client: build and encrypt an inner request; keep requestId/responseKey for the answer. */
export function createVauRequest(input: CreateVauRequestInput): { body: Buffer; requestId: string; responseKey: Buffer } {
  const requestId = input.requestId ?? newVauRequestId();
  const responseKey = input.responseKey ?? newVauResponseKey();
  const inner = buildVauInnerRequest({
    accessToken: input.accessToken,
    requestId,
    responseKey,
    httpRequest: toBytes(input.httpRequest, 'HTTP request'),
  });
  return {
    body: vauEncrypt(inner, input.vauPublicKey, { ephemeralPrivateKey: input.ephemeralPrivateKey, iv: input.iv }),
    requestId: requestId.toLowerCase(),
    responseKey,
  };
}

/** VAU: decrypt and parse an outer request body. */
export function openVauRequest(body: Buffer, vauPrivateKey: crypto.KeyObject | VauKeyAgreement): VauInnerRequest {
  return parseVauInnerRequest(vauDecrypt(body, vauPrivateKey));
}

/** VAU: frame and encrypt the inner HTTP response for the requester. */
export function sealVauResponse(
  request: Pick<VauInnerRequest, 'requestId' | 'responseKey'>,
  httpResponse: Buffer | string,
  opts: { iv?: Buffer } = {},
): Buffer {
  return encryptVauResponse(buildVauInnerResponse(request.requestId, httpResponse), request.responseKey, opts);
}

/** Client: decrypt the outer response body; checks the request id when given. */
export function openVauResponse(body: Buffer, responseKey: Buffer, expectedRequestId?: string): VauInnerResponse {
  const inner = parseVauInnerResponse(decryptVauResponse(body, responseKey));
  if (expectedRequestId !== undefined && inner.requestId !== expectedRequestId.toLowerCase()) {
    throw new VauError('REQUEST_ID_MISMATCH', `response for request ${inner.requestId}, expected ${expectedRequestId.toLowerCase()}`);
  }
  return inner;
}

export { VauError };
