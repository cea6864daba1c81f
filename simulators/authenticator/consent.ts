/**
 * The simulated user's answer when the IDP asks for consent to release identity attributes
 * (A_18917, "Einwilligung erteilen" A_18888). A policy sees what the IDP asks for and decides, as a
 * person in front of the Authentisierungsmodul would: grant everything, refuse, or confirm only some
 * attributes (which the IDP must refuse: consented_claims has to equal the requested claims, 2042).
 */

export interface ConsentRequest {
  /** client_id of the application that asks (from the challenge). */
  clientId: string;
  scope: string;
  /** Claim name → German consent text, exactly as the IDP sent them. */
  requestedClaims: Record<string, string>;
  /** Scope name → text, as shown with the challenge (user_consent.requested_scopes). */
  requestedScopes: Record<string, string>;
}

export type ConsentDecision = { decision: 'granted'; claims: string[] } | { decision: 'denied' };

export type ConsentPolicy = (request: ConsentRequest) => ConsentDecision | Promise<ConsentDecision>;

/** Confirms every requested attribute. */
export const grantAll: ConsentPolicy = (r) => ({ decision: 'granted', claims: Object.keys(r.requestedClaims) });

/** Refuses to release any attribute. */
export const denyAll: ConsentPolicy = () => ({ decision: 'denied' });

/** Confirms only the listed attributes (of those requested); the rest is left out. */
export function grantOnly(claims: readonly string[]): ConsentPolicy {
  return (r) => ({ decision: 'granted', claims: Object.keys(r.requestedClaims).filter((c) => claims.includes(c)) });
}
