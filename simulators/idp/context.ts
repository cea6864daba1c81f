/**
 * What every IDP endpoint works with (one object per running IDP), the endpoint paths, and small
 * request helpers shared by the endpoint modules.
 */
import type { SimClock } from '../lib/clock';
import type { IdpConsentMode } from '../lib/config';
import { DISCOVERY_PATH } from '../lib/idp-protocol';
import type { HttpResponse } from '../lib/http';
import type { ClientRegistry } from './clients';
import type { ConsentStore } from './consents';
import { IdpError } from './errors';
import type { IdpJwt } from './jwt';
import type { IdpKeys } from './keys';
import type { IdpMetrics, PendingTimers } from './metrics';
import type { PkiTrust } from './pki-trust';
import type { IdpLimits } from './profiles';
import type { AuthSessionStore } from './sessions';
import type { SingleUseRegistry } from './single-use';

/** Endpoint paths (the clients read them from the discovery document; names as in ref-idp-server). */
export const IDP_PATHS = {
  discovery: DISCOVERY_PATH,
  jwks: '/jwks',
  pukIdpSig: '/idpSig/jwk.json',
  pukIdpEnc: '/idpEnc/jwk.json',
  authorization: '/sign_response',
  sso: '/sso_response',
  consent: '/consent',
  token: '/token',
  endSession: '/logout',
  revocation: '/revoke',
  introspection: '/introspect',
  metrics: '/metrics',
} as const;

export interface IdpContext {
  /** Base URL = issuer (https://host:port). */
  issuer: string;
  limits: IdpLimits;
  consentMode: IdpConsentMode;
  clock: SimClock;
  keys: IdpKeys;
  jwt: IdpJwt;
  registry: ClientRegistry;
  trust: PkiTrust;
  sessions: AuthSessionStore;
  consents: ConsentStore;
  singleUse: SingleUseRegistry;
  metrics: IdpMetrics;
  /** challenge jti → issue time (authenticator response time). */
  challengeTimers: PendingTimers;
  /** consent token jti → consent_required time (consent wait time). */
  consentTimers: PendingTimers;
  /** Harness fault injection (admin.ts /__admin/faults): acr of the access tokens instead of ACR_HIGH. */
  accessTokenAcr?: string;
  log: (m: string) => void;
}

export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** Request parameters with duplicate detection (gematik 2011 / 3002). */
export interface Params {
  get(name: string): string | undefined;
  duplicates: string[];
}

export function params(sp: URLSearchParams): Params {
  const seen = new Map<string, string>();
  const duplicates: string[] = [];
  for (const [k, v] of sp) {
    if (seen.has(k)) {
      if (!duplicates.includes(k)) duplicates.push(k);
    } else seen.set(k, v);
  }
  return { get: (n) => seen.get(n), duplicates };
}

/** Parses an application/x-www-form-urlencoded body. */
export function formParams(body: Buffer): Params {
  return params(new URLSearchParams(body.toString('utf8')));
}

/** 302 to `redirectUri` with the given query parameters added (in order). */
export function redirectTo(redirectUri: string, query: Array<[string, string | undefined]>): HttpResponse {
  const url = new URL(redirectUri);
  for (const [k, v] of query) if (v !== undefined) url.searchParams.append(k, v);
  return { status: 302, headers: { location: url.toString(), ...NO_STORE } };
}

export function jsonNoStore(status: number, value: unknown, extra: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE, ...extra }, body: JSON.stringify(value) };
}

/** A required, non-empty string claim of a token; otherwise IdpError `name`. */
export function stringClaim(claims: Record<string, unknown>, key: string, name: ConstructorParameters<typeof IdpError>[0], what: string): string {
  const v = claims[key];
  if (typeof v !== 'string' || !v) throw new IdpError(name, `${what} has no ${key}`);
  return v;
}
