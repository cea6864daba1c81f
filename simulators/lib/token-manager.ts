/**
 * Token caching and renewal for a client system (PVS, AVS, FdV). The gematik IDP issues no refresh
 * tokens: a token is renewed by running the authorization code flow again. With a live SSO session on
 * the device the Authentisierungsmodul answers without the card (A_18809); otherwise the card signs.
 *
 *   accessToken()  cached token until renewBeforeSeconds (default 60) before its exp, then a new flow
 *   invalidate()   forget the token (e.g. after the Fachdienst answered 401)
 *
 * The client side of the flow is the relying party's: PKCE/state/nonce and the authorization URL, the
 * state check on the redirect, the token endpoint with key_verifier (IdpClient). The user-agent side
 * is the authenticator's. Concurrent callers share one flow.
 *
 * Events: 'token' (TokenEvent) after every flow; counters in `stats`.
 */
import { EventEmitter } from 'node:events';
import { IdpProtocolError, type AuthorizationRequest, type IdpRelyingParty, type RedeemCodeParams, type TokenSet } from './idp-client';

/** The user agent a client system hands its authorization request to (the Authenticator). */
export interface AuthorizationAgent {
  authenticate(authorizationUrl: string, opts?: { forceLogin?: boolean }): Promise<{ location: string; code: string; state: string; method?: 'card' | 'sso' }>;
}

/** The relying-party operations the token manager needs (IdpClient implements them). */
export interface RelyingPartyIdp {
  createAuthorizationRequest(rp: IdpRelyingParty, opts?: { prompt?: 'login' }): Promise<AuthorizationRequest>;
  redeemCode(p: RedeemCodeParams): Promise<TokenSet>;
}

export interface TokenManagerOptions {
  client: IdpRelyingParty;
  authenticator: AuthorizationAgent;
  idp: RelyingPartyIdp;
  /** ms since the epoch (default Date.now); pass () => simClock.nowMs() to follow the simulated clock. */
  clock?: () => number;
  /** Renew this many seconds before exp (default 60; at most half the token's lifetime). */
  renewBeforeSeconds?: number;
}

export interface TokenEvent {
  kind: 'login' | 'renewal';
  /** How the authenticator answered (card signature or SSO), when it says. */
  method?: 'card' | 'sso';
  tokens: TokenSet;
}

export interface TokenManagerStats {
  /** Flows run without a previous token (first use, after invalidate()). */
  logins: number;
  /** Flows run to replace a cached token that was due (about to expire, or expired). */
  renewals: number;
  cardLogins: number;
  ssoLogins: number;
  /** accessToken() calls answered from the cache. */
  cacheHits: number;
}

export class TokenManager extends EventEmitter {
  readonly client: IdpRelyingParty;
  readonly stats: TokenManagerStats = { logins: 0, renewals: 0, cardLogins: 0, ssoLogins: 0, cacheHits: 0 };
  private readonly authenticator: AuthorizationAgent;
  private readonly idp: RelyingPartyIdp;
  private readonly clock: () => number;
  private readonly renewBeforeMs: number;
  private cached?: TokenSet;
  private inFlight?: Promise<TokenSet>;

  constructor(opts: TokenManagerOptions) {
    super();
    const renew = opts.renewBeforeSeconds ?? 60;
    if (!Number.isFinite(renew) || renew < 0) throw new IdpProtocolError('INVALID_ARGUMENT', 'renewBeforeSeconds must be a number ≥ 0');
    for (const k of ['clientId', 'redirectUri', 'scope'] as const) {
      if (typeof opts.client?.[k] !== 'string' || !opts.client[k]) throw new IdpProtocolError('INVALID_ARGUMENT', `client.${k} is required`);
    }
    this.client = opts.client;
    this.authenticator = opts.authenticator;
    this.idp = opts.idp;
    this.clock = opts.clock ?? Date.now;
    this.renewBeforeMs = renew * 1000;
  }

  /** The cached token set, without renewing. */
  current(): TokenSet | undefined {
    return this.cached;
  }

  /** Whether the cached token is usable now (present, and not within the renewal window). */
  isFresh(now = this.clock()): boolean {
    const t = this.cached;
    if (!t) return false;
    const lifetime = Math.max(0, t.expiresAtMs - t.issuedAtMs);
    const margin = Math.min(this.renewBeforeMs, lifetime / 2);
    return now < t.expiresAtMs - margin;
  }

  /** The access token (JWS) to send as Bearer. */
  async accessToken(): Promise<string> {
    return (await this.tokens()).accessToken;
  }

  /** Cached tokens, or a new flow when none are cached or they are due for renewal. */
  async tokens(): Promise<TokenSet> {
    if (this.isFresh()) {
      this.stats.cacheHits++;
      return this.cached as TokenSet;
    }
    return this.runFlow({});
  }

  /** A new flow regardless of the cache (prompt=login when forceLogin: the card must sign). */
  async login(opts: { forceLogin?: boolean } = {}): Promise<TokenSet> {
    return this.runFlow(opts, true);
  }

  /** Forget the cached token; the next accessToken() logs in again. */
  invalidate(): void {
    this.cached = undefined;
  }

  private runFlow(opts: { forceLogin?: boolean }, fresh = false): Promise<TokenSet> {
    if (this.inFlight && !fresh) return this.inFlight;
    const kind: TokenEvent['kind'] = this.cached ? 'renewal' : 'login';
    const flow = this.flow(opts, kind).finally(() => {
      if (this.inFlight === flow) this.inFlight = undefined;
    });
    this.inFlight = flow;
    return flow;
  }

  private async flow(opts: { forceLogin?: boolean }, kind: TokenEvent['kind']): Promise<TokenSet> {
    const request = await this.idp.createAuthorizationRequest(this.client, opts.forceLogin ? { prompt: 'login' } : {});
    const answer = await this.authenticator.authenticate(request.url, opts.forceLogin ? { forceLogin: true } : {});
    checkRedirect(answer, request);
    const tokens = await this.idp.redeemCode({ relyingParty: this.client, code: answer.code, codeVerifier: request.codeVerifier, nonce: request.nonce });
    this.cached = tokens;
    if (kind === 'renewal') this.stats.renewals++;
    else this.stats.logins++;
    if (answer.method === 'sso') this.stats.ssoLogins++;
    else if (answer.method === 'card') this.stats.cardLogins++;
    const event: TokenEvent = { kind, tokens, ...(answer.method ? { method: answer.method } : {}) };
    this.emit('token', event);
    return tokens;
  }
}

/** The client's checks on the redirect it receives: its own redirect_uri, its own state, a code. */
function checkRedirect(answer: { location: string; code: string; state: string }, request: AuthorizationRequest): void {
  let url: URL;
  try {
    url = new URL(answer.location);
  } catch {
    throw new IdpProtocolError('UNEXPECTED_RESPONSE', 'the authenticator returned no usable redirect');
  }
  const expected = new URL(request.relyingParty.redirectUri);
  if (url.origin !== expected.origin || url.pathname !== expected.pathname) {
    throw new IdpProtocolError('ENDPOINT_MISMATCH', `redirect to ${url.origin}${url.pathname} is not this client's redirect_uri`);
  }
  const state = url.searchParams.get('state') ?? answer.state;
  if (state !== request.state) throw new IdpProtocolError('STATE_MISMATCH', 'redirect state differs from the authorization request (possible CSRF)');
  const code = url.searchParams.get('code') ?? answer.code;
  if (!code || code !== answer.code) throw new IdpProtocolError('UNEXPECTED_RESPONSE', 'redirect carries no code');
}
