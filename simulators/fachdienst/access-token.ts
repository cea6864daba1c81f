/**
 * Access-token check of the Fachdienst (A_18839, A_18889, A_18923; production VauRequestHandler /
 * JWT::verify): every inner request carries an IDP access token (BP256R1 JWS) that must
 *   - be a compact JWS with alg BP256R1 signed with the IDP's puk_idp_sig (discovered from the
 *     environment's IDP with the PKI as trust anchor; cached until the discovery document expires,
 *     fetched again once when a signature does not verify, so a key rollover is followed),
 *   - carry the required claims (iss, sub, iat, exp, aud, acr),
 *   - name the configured audience in aud,
 *   - not be expired (exp) nor issued in the future (iat/nbf, 60 s tolerance) by the Fachdienst's SimClock,
 *   - have acr "gematik-ehealth-loa-high" (A_18923),
 *   - and, with checkRevocation, still be active at the IDP's introspection endpoint, so a logout or
 *     revocation at the IDP (A_18857/A_18858) ends access at once.
 * Any failure is a 401 with production's WWW-Authenticate header and text (outcome.ts).
 */
import type { SimClock } from '../lib/clock';
import { ACR_HIGH } from '../lib/idp-protocol';
import { IdpClient, type IdpTrust } from '../lib/idp-client';
import { decodeJws, payloadJson, verifyJws, type DecodedJws } from '../lib/jose';
import { FhirError } from './outcome';

/** Production's WWW-Authenticate value on every token error (VauRequestHandler::wwwAuthenticateErrorInvalidToken). */
export const WWW_AUTHENTICATE_INVALID_TOKEN = "Bearer realm='prescriptionserver.telematik', error='invalACCESS_TOKEN'";

const CLOCK_SKEW_S = 60;

/** The claims of a verified access token the Fachdienst uses. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  iat: number;
  exp: number;
  acr: string;
  jti?: string;
  client_id?: string;
  professionOID?: string;
  /** Telematik-ID (LEI) or KVNR (insured). */
  idNummer?: string;
  given_name?: string;
  family_name?: string;
  organizationName?: string;
  display_name?: string;
  [claim: string]: unknown;
}

export type AccessTokenFailure = 'format' | 'signature' | 'claims' | 'audience' | 'expired' | 'not-yet-valid' | 'acr' | 'inactive';

const TEXT: Record<AccessTokenFailure, string> = {
  format: 'JWT has invalid format',
  signature: 'JWT has invalid signature',
  claims: 'JWT misses required claims',
  audience: 'JWT has invalid aud claim',
  expired: 'JWT expired',
  'not-yet-valid': 'JWT is not valid yet',
  acr: 'JWT has invalid format', // production: an unsupported acr is a JwtInvalidFormatException (JWT::checkRequiredClaims, A_19439)
  inactive: 'JWT is no longer active at the IDP (revoked or logged out)',
};

/** A 401 FhirError for a token failure, with production's WWW-Authenticate header. */
export class AccessTokenError extends FhirError {
  constructor(
    readonly failure: AccessTokenFailure,
    detail?: string,
  ) {
    super(401, TEXT[failure], { headers: { 'WWW-Authenticate': WWW_AUTHENTICATE_INVALID_TOKEN } });
    this.detail = detail;
  }
  readonly detail?: string;
}

export interface AccessTokenVerifierOptions {
  /** Issuer URL of the IDP (its discovery document lives below it). */
  idpUrl: string;
  /** PKI root and issuing CAs: check the IDP's TLS and signing certificates. */
  trust: IdpTrust;
  clock: SimClock;
  /** Required aud (the e-rezept scope's audience). */
  audience: string;
  /** Ask the IDP's introspection endpoint on every request (A_18857/58). */
  checkRevocation: boolean;
  log?: (message: string) => void;
  timeoutMs?: number;
}

const REQUIRED = ['iss', 'sub', 'iat', 'exp', 'aud', 'acr'] as const;

export class AccessTokenVerifier {
  private readonly idp: IdpClient;
  private lastForcedDiscoveryMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: AccessTokenVerifierOptions) {
    this.idp = new IdpClient(opts.idpUrl, { trust: opts.trust, clock: () => opts.clock.nowMs(), timeoutMs: opts.timeoutMs ?? 10_000 });
  }

  /** Fetches the IDP's discovery document and keys now (errors are logged; verify() retries). */
  async warmUp(): Promise<void> {
    try {
      await this.idp.discover();
    } catch (e) {
      this.opts.log?.(`IDP discovery at ${this.opts.idpUrl} failed (retried on the first request): ${(e as Error).message}`);
    }
  }

  /** The verified claims, or throws AccessTokenError (401). IDP unreachable: FhirError 503. */
  async verify(token: string): Promise<AccessTokenClaims> {
    let decoded: DecodedJws;
    try {
      decoded = decodeJws(token);
    } catch (e) {
      throw new AccessTokenError('format', (e as Error).message);
    }
    if (decoded.header.alg !== 'BP256R1') throw new AccessTokenError('format', `alg ${String(decoded.header.alg)}, expected BP256R1`);
    let claims: AccessTokenClaims;
    try {
      claims = payloadJson<AccessTokenClaims>(decoded.payload);
    } catch (e) {
      throw new AccessTokenError('format', (e as Error).message);
    }
    if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw new AccessTokenError('format', 'payload is not a JSON object');
    await this.checkSignature(token);
    for (const c of REQUIRED) if (claims[c] === undefined || claims[c] === null || claims[c] === '') throw new AccessTokenError('claims', `missing ${c}`);
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') throw new AccessTokenError('claims', 'exp and iat must be numbers');
    const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!auds.includes(this.opts.audience)) throw new AccessTokenError('audience', `aud ${JSON.stringify(claims.aud)}, expected ${this.opts.audience}`);
    const now = this.opts.clock.nowSeconds();
    if (now >= claims.exp) throw new AccessTokenError('expired', `exp ${new Date(claims.exp * 1000).toISOString()}`);
    if (claims.iat > now + CLOCK_SKEW_S) throw new AccessTokenError('not-yet-valid', 'iat lies in the future');
    if (typeof claims.nbf === 'number' && claims.nbf > now + CLOCK_SKEW_S) throw new AccessTokenError('not-yet-valid', 'nbf lies in the future');
    if (claims.acr !== ACR_HIGH) throw new AccessTokenError('acr', `acr ${JSON.stringify(claims.acr)}, expected ${ACR_HIGH}`);
    if (this.opts.checkRevocation) {
      let active: boolean;
      try {
        active = (await this.idp.introspect(token)).active;
      } catch (e) {
        this.opts.log?.(`introspection at the IDP failed: ${(e as Error).message}`);
        throw new FhirError(503, 'IDP introspection endpoint not reachable, access token status unknown');
      }
      if (!active) throw new AccessTokenError('inactive');
    }
    return claims;
  }

  private async checkSignature(token: string): Promise<void> {
    const tryKey = async (force: boolean): Promise<boolean> => {
      let key;
      try {
        key = (await this.idp.discover(force)).idpSig.key;
      } catch (e) {
        this.opts.log?.(`IDP discovery failed: ${(e as Error).message}`);
        throw new FhirError(503, 'IDP signature key not available, access token cannot be checked');
      }
      try {
        verifyJws(token, key, { algorithms: ['BP256R1'] });
        return true;
      } catch {
        return false;
      }
    };
    if (await tryKey(false)) return;
    // The IDP may have rolled its key: look once more before refusing (at most once a minute).
    const now = this.opts.clock.nowMs();
    if (now - this.lastForcedDiscoveryMs > 60_000) {
      this.lastForcedDiscoveryMs = now;
      if (await tryKey(true)) return;
    }
    throw new AccessTokenError('signature');
  }
}
