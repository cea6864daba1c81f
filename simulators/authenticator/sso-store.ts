/**
 * The device-wide SSO store of the Authentisierungsmodul: one SSO token per IDP, shared by every
 * client system that uses the module on the same device (A_18809: an authenticated user is not asked
 * to present the card again while the IDP's SSO session lasts). Several Authenticator instances given
 * the same store behave like one module serving several client apps.
 *
 * Optionally persisted as a JSON file (mode 0600, written atomically), so the "device" survives a
 * restart of the module. Entries whose expiry has passed are dropped on read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeJweHeader } from '../lib/jose';

export interface SsoSession {
  /** Issuer URL of the IDP that issued the SSO token (no trailing slash). */
  issuer: string;
  ssoToken: string;
  storedAtMs: number;
  /** From the SSO token's JWE header `exp` when it carries one. */
  expiresAtMs?: number;
  /** Who authenticated (signer label), for logs. */
  owner?: string;
}

interface StoreFile {
  version: 1;
  sessions: SsoSession[];
}

export class SsoStoreError extends Error {
  override name = 'SsoStoreError';
}

/** The `exp` (ms) of a JWE SSO token's protected header, if readable. */
export function ssoTokenExpiry(ssoToken: string): number | undefined {
  try {
    const exp = decodeJweHeader(ssoToken).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function issuerKey(issuer: string): string {
  return issuer.replace(/\/+$/, '');
}

export class DeviceSsoStore {
  private readonly sessions = new Map<string, SsoSession>();
  private readonly file?: string;
  private readonly clock: () => number;

  constructor(opts: { file?: string; clock?: () => number } = {}) {
    this.file = opts.file ? path.resolve(opts.file) : undefined;
    this.clock = opts.clock ?? Date.now;
    if (this.file && fs.existsSync(this.file)) this.load(this.file);
  }

  private load(file: string): void {
    let data: unknown;
    try {
      data = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new SsoStoreError(`SSO store ${file} is not readable JSON: ${(e as Error).message}`);
    }
    const sessions = (data as Partial<StoreFile>)?.sessions;
    if ((data as Partial<StoreFile>)?.version !== 1 || !Array.isArray(sessions)) {
      throw new SsoStoreError(`SSO store ${file} is not a version 1 store ({version:1, sessions:[…]})`);
    }
    for (const s of sessions) {
      if (!s || typeof s.issuer !== 'string' || typeof s.ssoToken !== 'string' || typeof s.storedAtMs !== 'number') {
        throw new SsoStoreError(`SSO store ${file} holds a malformed session entry`);
      }
      this.sessions.set(issuerKey(s.issuer), { ...s, issuer: issuerKey(s.issuer) });
    }
  }

  private save(): void {
    if (!this.file) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
    const content: StoreFile = { version: 1, sessions: [...this.sessions.values()] };
    fs.writeFileSync(tmp, JSON.stringify(content, null, 2), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }

  /** The live session for an IDP (expired ones are removed). */
  get(issuer: string): SsoSession | undefined {
    const key = issuerKey(issuer);
    const s = this.sessions.get(key);
    if (!s) return undefined;
    if (s.expiresAtMs !== undefined && s.expiresAtMs <= this.clock()) {
      this.delete(key);
      return undefined;
    }
    return s;
  }

  has(issuer: string): boolean {
    return this.get(issuer) !== undefined;
  }

  /** Stores (replaces) the session for `issuer`. */
  put(issuer: string, ssoToken: string, owner?: string): SsoSession {
    if (typeof ssoToken !== 'string' || !ssoToken) throw new SsoStoreError('SSO token must be a non-empty string');
    const session: SsoSession = {
      issuer: issuerKey(issuer),
      ssoToken,
      storedAtMs: this.clock(),
      ...(ssoTokenExpiry(ssoToken) !== undefined ? { expiresAtMs: ssoTokenExpiry(ssoToken) } : {}),
      ...(owner ? { owner } : {}),
    };
    this.sessions.set(session.issuer, session);
    this.save();
    return session;
  }

  delete(issuer: string): boolean {
    const had = this.sessions.delete(issuerKey(issuer));
    if (had) this.save();
    return had;
  }

  clear(): void {
    this.sessions.clear();
    this.save();
  }

  get size(): number {
    return this.sessions.size;
  }
}
