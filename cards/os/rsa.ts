// RSA signatures over a precomputed hash for the card's PSO COMPUTE DIGITAL
// SIGNATURE: EMSA-PSS (RFC 8017 §9.1.1, MGF1 with the same hash, salt length
// = hash length) followed by the raw RSA private-key operation.

import { constants, createHash, type KeyObject, privateEncrypt, randomBytes } from 'node:crypto';

const HASH_BY_LENGTH: Record<number, string> = { 32: 'sha256', 48: 'sha384', 64: 'sha512' };

function mgf1(hash: string, seed: Buffer, length: number): Buffer {
  const parts: Buffer[] = [];
  let produced = 0;
  for (let counter = 0; produced < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    parts.push(block);
    produced += block.length;
  }
  return Buffer.concat(parts).subarray(0, length);
}

/** RSASSA-PSS signature of `digest` (32, 48 or 64 bytes: SHA-256/384/512). */
export function signPssDigest(key: KeyObject, digest: Buffer): Buffer {
  const hash = HASH_BY_LENGTH[digest.length];
  if (!hash) throw new RangeError('PSS digest must have 32, 48 or 64 bytes');
  const modBits = key.asymmetricKeyDetails?.modulusLength;
  if (!modBits) throw new TypeError('not an RSA key');
  const hLen = digest.length;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < 2 * hLen + 2) throw new RangeError('RSA key too small for PSS with this hash');
  const salt = randomBytes(hLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([0x01]), salt]);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  const k = Math.ceil(modBits / 8);
  const padded = em.length < k ? Buffer.concat([Buffer.alloc(k - em.length), em]) : em;
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, padded);
}
