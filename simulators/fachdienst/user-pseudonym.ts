/**
 * The user pseudonym of the VAU transport (gemSpec_Krypt A_20163 steps 7–10): the VAU derives a
 * 128-bit pseudonym from the token's `sub` with a secret key, returns it hex-encoded in the outer
 * `Userpseudonym` response header, and the client sends it back as path of its next request
 * (`POST /VAU/<pseudonym>`; `POST /VAU/0` when it has none yet). The load balancer can route by
 * it without learning who the user is.
 *
 * Production uses AES-CMAC; this simulator uses HMAC-SHA256 truncated to 128 bits (same length,
 * same properties for the client: opaque, stable per user, 32 hex characters). A pseudonym that
 * does not belong to the token's user is not an error in production (it is logged and a correct
 * one is returned); the simulator does the same.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const PSEUDONYM_PATTERN = /^[0-9a-f]{32}$/;
/** Path segment of a client that has no pseudonym yet. */
export const NO_PSEUDONYM = '0';

export class UserPseudonyms {
  constructor(private readonly key: Buffer) {
    if (key.length < 16) throw new Error('pseudonym key must have at least 16 bytes');
  }

  /** Key from `<dir>/pseudonym.key` (created on first start). */
  static loadOrCreate(dir: string): UserPseudonyms {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'pseudonym.key');
    let key: Buffer | undefined;
    try {
      key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
    } catch {
      key = undefined;
    }
    if (!key || key.length !== 32) {
      key = crypto.randomBytes(32);
      fs.writeFileSync(file, key.toString('hex'), { mode: 0o600 });
    }
    return new UserPseudonyms(key);
  }

  of(sub: string): string {
    return crypto.createHmac('sha256', this.key).update(sub, 'utf8').digest().subarray(0, 16).toString('hex');
  }

  /** True when `pseudonym` is the one of `sub` (constant time). */
  belongsTo(pseudonym: string, sub: string): boolean {
    if (!PSEUDONYM_PATTERN.test(pseudonym)) return false;
    return crypto.timingSafeEqual(Buffer.from(pseudonym, 'hex'), Buffer.from(this.of(sub), 'hex'));
  }
}
