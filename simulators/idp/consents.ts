/**
 * Remembered consents (A_18865): per identity (idNummer), client and service scope, the identity
 * claims the user agreed to release. Keys are HMACs (no readable idNummer in memory dumps or admin
 * answers, A_18859); held in memory, so a restart of the IDP asks again.
 */
import * as crypto from 'node:crypto';
import type { IdentityClaim } from '../lib/idp-protocol';

export class ConsentStore {
  private readonly consents = new Map<string, Set<IdentityClaim>>();

  constructor(private readonly salt: Buffer) {}

  private key(idNummer: string, clientId: string, scope: string): string {
    return crypto.createHmac('sha256', this.salt).update(`consent\u0000${idNummer}\u0000${clientId}\u0000${scope}`).digest('base64url');
  }

  /** Whether the user consented to release all `claims` to this client for this scope. */
  covers(idNummer: string, clientId: string, scope: string, claims: readonly IdentityClaim[]): boolean {
    const given = this.consents.get(this.key(idNummer, clientId, scope));
    return !!given && claims.every((c) => given.has(c));
  }

  remember(idNummer: string, clientId: string, scope: string, claims: readonly IdentityClaim[]): void {
    const k = this.key(idNummer, clientId, scope);
    const given = this.consents.get(k) ?? new Set<IdentityClaim>();
    for (const c of claims) given.add(c);
    this.consents.set(k, given);
  }

  /** Forgets the consents of one person for the given clients × scopes; returns how many were removed. */
  forget(idNummer: string, clientIds: string[], scopes: string[]): number {
    let n = 0;
    for (const c of clientIds) for (const s of scopes) if (this.consents.delete(this.key(idNummer, c, s))) n++;
    return n;
  }

  clear(): number {
    const n = this.consents.size;
    this.consents.clear();
    return n;
  }

  get size(): number {
    return this.consents.size;
  }
}
