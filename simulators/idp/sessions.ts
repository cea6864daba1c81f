/**
 * Authentication sessions and the tokens issued from them.
 *
 * Every card authentication (signed challenge) opens a session; its SSO token (for clients with
 * sso: true) and every code, access and ID token issued from it — also later ones obtained with the
 * SSO token — belong to it. Ending the session (logout, A_18858) revokes them all; a single token
 * can be revoked by the user (A_18857). Held in memory.
 */
import * as crypto from 'node:crypto';
import type { SimClock } from '../lib/clock';
import type { CardIdentity } from './identity';

export interface AuthSession {
  sid: string;
  identity: CardIdentity;
  /** auth_time of every token of the session (A_20459: unchanged through SSO). */
  authTime: number;
  /** End of the SSO validity (auth_time + SSO lifetime). */
  ssoExpires: number;
  /** The client and redirect_uri of the card authentication (the production profile binds SSO to them). */
  clientId: string;
  redirectUri: string;
  ended: boolean;
  tokens: Set<string>;
}

export class AuthSessionStore {
  private readonly sessions = new Map<string, AuthSession>();
  private readonly tokenSession = new Map<string, { sid: string; exp: number }>();
  private readonly revoked = new Map<string, number>();

  constructor(private readonly clock: SimClock) {}

  open(identity: CardIdentity, ssoLifetimeS: number, clientId: string, redirectUri: string): AuthSession {
    this.prune();
    const authTime = this.clock.nowSeconds();
    const s: AuthSession = {
      sid: crypto.randomBytes(16).toString('hex'),
      identity,
      authTime,
      ssoExpires: authTime + ssoLifetimeS,
      clientId,
      redirectUri,
      ended: false,
      tokens: new Set(),
    };
    this.sessions.set(s.sid, s);
    return s;
  }

  get(sid: string): AuthSession | undefined {
    return this.sessions.get(sid);
  }

  /** The session when it exists, has not ended and its SSO validity has not passed. */
  active(sid: string): AuthSession | undefined {
    const s = this.sessions.get(sid);
    return s && !s.ended && this.clock.nowSeconds() < s.ssoExpires ? s : undefined;
  }

  /** Ends a session and revokes every token issued from it; returns the number of revoked tokens. */
  end(sid: string): number {
    const s = this.sessions.get(sid);
    if (!s) return 0;
    s.ended = true;
    let n = 0;
    for (const jti of s.tokens) {
      const t = this.tokenSession.get(jti);
      if (!this.revoked.has(jti)) n++;
      this.revoked.set(jti, t?.exp ?? this.clock.nowSeconds());
    }
    return n;
  }

  /** Records a token (access/ID token jti) as issued from `sid`. */
  addToken(sid: string, jti: string, exp: number): void {
    this.sessions.get(sid)?.tokens.add(jti);
    this.tokenSession.set(jti, { sid, exp });
  }

  sessionOfToken(jti: string): string | undefined {
    return this.tokenSession.get(jti)?.sid;
  }

  knowsToken(jti: string): boolean {
    return this.tokenSession.has(jti);
  }

  revoke(jti: string, exp: number): void {
    this.revoked.set(jti, exp);
  }

  isRevoked(jti: string): boolean {
    return this.revoked.has(jti);
  }

  get counts(): { sessions: number; active: number; tokens: number; revoked: number } {
    let active = 0;
    for (const s of this.sessions.values()) if (this.active(s.sid)) active++;
    return { sessions: this.sessions.size, active, tokens: this.tokenSession.size, revoked: this.revoked.size };
  }

  /** Drops sessions and token records long past their validity (by the IDP clock). */
  private prune(): void {
    const now = this.clock.nowSeconds();
    const grace = 3600;
    for (const [sid, s] of this.sessions) {
      if (s.ssoExpires + grace < now && [...s.tokens].every((j) => (this.tokenSession.get(j)?.exp ?? 0) + grace < now)) {
        for (const j of s.tokens) this.tokenSession.delete(j);
        this.sessions.delete(sid);
      }
    }
    for (const [jti, exp] of this.revoked) if (exp + grace < now) this.revoked.delete(jti);
  }
}
