/**
 * The Authentisierungsmodul (gemSysL_eRp §4.2.2): the user agent between a client system and the IDP.
 *
 *   client system ──authorization URL──▶ Authenticator ──GET challenge──▶ IDP
 *                                          │ SSO token of this device? (not for prompt=login)
 *                                          │   yes: POST sso_endpoint (no card, A_18809)
 *                                          │   no:  card signs the challenge (A_18816), POST signed_challenge
 *                                          │ consent_required: ask the user (policy), POST consent (A_18917)
 *   client system ◀──redirect_uri?code&state── (authorization code grant, A_18814)
 *
 * The module never redeems the code: the code goes back to the client, which calls the token endpoint
 * itself. Its exchange log (IdpClient.log plus the REDIRECT hand-over records) lets a test check that.
 */
import {
  IdpClient,
  IdpError,
  IdpProtocolError,
  redactUrl,
  type CodeRedirect,
  type ExchangeLog,
  type ExchangeRecord,
  type FetchedChallenge,
  type IdpClientOptions,
} from '../lib/idp-client';
import { IDP_ERROR_CODES, PARAM, type ChallengeResponse } from '../lib/idp-protocol';
import { grantAll, type ConsentDecision, type ConsentPolicy } from './consent';
import { parseAuthenticatorUri, stripAuthenticatorHints, type AuthenticatorInvocation } from './invocation';
import type { ChallengeSigner } from './signer';
import { DeviceSsoStore } from './sso-store';

export interface AuthenticatorOptions extends Omit<IdpClientOptions, 'log'> {
  /** Issuer URL of the IDP this module trusts (the authorization URL must point at its authorization endpoint). */
  issuerUrl: string;
  signer: ChallengeSigner;
  /** The simulated user's consent decisions (default: grant all). */
  consent?: ConsentPolicy;
  /** The device's SSO store, shared with other Authenticators on the same device (default: a private one). */
  ssoStore?: DeviceSsoStore;
  log?: ExchangeLog;
}

export interface AuthenticateOptions {
  /** Ignore a stored SSO session and present the card (also implied by prompt=login in the request). */
  forceLogin?: boolean;
}

/** What the module hands back to the client system. */
export interface AuthenticationResult {
  /** The client's redirect_uri with code and state: where the module sends the client. */
  location: string;
  code: string;
  state: string;
  clientId: string;
  redirectUri: string;
  /** card: a new card signature; sso: the device's SSO session, no card involved. */
  method: 'card' | 'sso';
  /** The consent text shown with the challenge (user_consent). */
  userConsent: ChallengeResponse['user_consent'];
  /** Present when the IDP asked for consent: what it asked and what the user answered. */
  consent?: { requestedClaims: Record<string, string>; decision: ConsentDecision };
  /** Hints of an authenticator:// invocation (callback, cardType). */
  invocation?: Omit<AuthenticatorInvocation, 'challengePath'>;
}

export interface AuthenticatorStats {
  /** Flows that ended with a code. */
  completed: number;
  /** Challenges signed with the card. */
  cardSignatures: number;
  /** Codes obtained through the SSO session. */
  ssoLogins: number;
  /** Consent requests answered. */
  consentsAsked: number;
  /** SSO attempts the IDP refused (the module then fell back to the card). */
  ssoRefused: number;
}

/**
 * SSO refusals after which the card takes over: session ended/expired (2040), SSO not usable for this
 * challenge (2041: prompt=login, production profile's client binding), no consent of this client yet
 * (2042: the card login brings the consent question).
 */
const SSO_FALLBACK_CODES = new Set<string>([
  IDP_ERROR_CODES.ssoTokenInvalid,
  IDP_ERROR_CODES.ssoTokenAndChallengeIncompatible,
  IDP_ERROR_CODES.claimsOfUserConsentIsMissing,
]);

export class Authenticator {
  readonly idp: IdpClient;
  readonly ssoStore: DeviceSsoStore;
  readonly signer: ChallengeSigner;
  readonly stats: AuthenticatorStats = { completed: 0, cardSignatures: 0, ssoLogins: 0, consentsAsked: 0, ssoRefused: 0 };
  private readonly consent: ConsentPolicy;
  /** One flow at a time: the card (and the user) serve one request after the other. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: AuthenticatorOptions) {
    this.idp = new IdpClient(opts.issuerUrl, opts);
    this.signer = opts.signer;
    this.consent = opts.consent ?? grantAll;
    this.ssoStore = opts.ssoStore ?? new DeviceSsoStore({ clock: opts.clock });
  }

  /** Every exchange with the IDP and every hand-over to a client, secrets redacted. */
  get exchanges(): readonly ExchangeRecord[] {
    return this.idp.log.records;
  }

  get issuer(): string {
    return this.idp.issuerUrl;
  }

  /** Whether the device holds an SSO session for this module's IDP. */
  hasSsoSession(): boolean {
    return this.ssoStore.has(this.idp.issuerUrl);
  }

  /**
   * Runs the flow for a client's authorization request URL and returns the client's redirect (code and
   * state). IDP refusals throw IdpError (e.g. access_denied after a denied consent), failed checks
   * IdpProtocolError.
   */
  authenticate(authorizationRequestUrl: string, opts: AuthenticateOptions = {}): Promise<AuthenticationResult> {
    const run = this.queue.then(() => this.runFlow(authorizationRequestUrl, opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** authenticator://?challenge_path=… (A_18940): parses, authenticates, returns the client's redirect. */
  async handleInvocation(uri: string, opts: AuthenticateOptions = {}): Promise<AuthenticationResult> {
    const inv = parseAuthenticatorUri(uri);
    const result = await this.authenticate(inv.challengePath, opts);
    const hints = { ...(inv.callback ? { callback: inv.callback } : {}), ...(inv.cardType ? { cardType: inv.cardType } : {}) };
    return Object.keys(hints).length ? { ...result, invocation: hints } : result;
  }

  /** Ends the device's SSO session at the IDP (A_18858) and forgets it. */
  async logout(): Promise<boolean> {
    const session = this.ssoStore.get(this.idp.issuerUrl);
    if (!session) return false;
    try {
      await this.idp.logout({ ssoToken: session.ssoToken });
    } finally {
      this.ssoStore.delete(this.idp.issuerUrl);
    }
    return true;
  }

  private async runFlow(rawUrl: string, opts: AuthenticateOptions): Promise<AuthenticationResult> {
    const { challengePath } = stripAuthenticatorHints(rawUrl);
    const request = new URL(challengePath);
    const clientId = request.searchParams.get(PARAM.clientId) ?? '';
    const redirectUri = request.searchParams.get(PARAM.redirectUri) ?? '';
    const requestedState = request.searchParams.get(PARAM.state) ?? '';
    if (!(await this.idp.isAuthorizationUrl(challengePath))) {
      throw new IdpProtocolError('ENDPOINT_MISMATCH', `${redactUrl(challengePath)} is not the authorization endpoint of ${this.idp.issuerUrl}`);
    }

    let fetched = await this.idp.fetchChallenge(challengePath);
    const forced = opts.forceLogin === true || fetched.claims.prompt === 'login' || request.searchParams.get(PARAM.prompt) === 'login';
    let method: AuthenticationResult['method'] = 'card';
    let consent: AuthenticationResult['consent'];
    let redirect: CodeRedirect | undefined;

    const session = forced ? undefined : this.ssoStore.get(this.idp.issuerUrl);
    if (session) {
      try {
        redirect = await this.idp.redeemSso(session.ssoToken, fetched.challenge);
        method = 'sso';
      } catch (e) {
        if (!(e instanceof IdpError) || !e.gematikCode || !SSO_FALLBACK_CODES.has(e.gematikCode)) throw e;
        // The IDP ended the session or wants the card for this request: present the card instead.
        this.stats.ssoRefused++;
        if (e.gematikCode === IDP_ERROR_CODES.ssoTokenInvalid) this.ssoStore.delete(this.idp.issuerUrl);
        fetched = await this.idp.fetchChallenge(challengePath);
      }
    }

    if (!redirect) {
      const signed = await this.idp.signChallenge(fetched.challenge, this.signer);
      this.stats.cardSignatures++;
      const outcome = await this.idp.submitSignedChallenge(signed);
      if (outcome.kind === 'consent') {
        const decision = await this.askConsent(fetched, outcome.requestedClaims);
        consent = { requestedClaims: outcome.requestedClaims, decision };
        redirect =
          decision.decision === 'granted'
            ? await this.idp.submitConsent(outcome.consentToken, 'granted', decision.claims)
            : await this.idp.submitConsent(outcome.consentToken, 'denied');
      } else {
        redirect = outcome;
      }
    }

    if (requestedState && redirect.state !== requestedState) {
      throw new IdpProtocolError('STATE_MISMATCH', 'the IDP redirected with another state than the client requested');
    }
    const location = clientLocation(redirect, redirectUri);
    // A new SSO token replaces the device's session; a login without one leaves the old session alone.
    if (redirect.ssoToken) this.ssoStore.put(this.idp.issuerUrl, redirect.ssoToken, this.signer.label);
    this.idp.log.add({ method: 'REDIRECT', url: redactUrl(location), status: 302, location: redactUrl(location) });
    if (method === 'sso') this.stats.ssoLogins++;
    this.stats.completed++;
    return {
      location,
      code: redirect.code,
      state: redirect.state,
      clientId,
      redirectUri,
      method,
      userConsent: fetched.userConsent,
      ...(consent ? { consent } : {}),
    };
  }

  private async askConsent(fetched: FetchedChallenge, requestedClaims: Record<string, string>): Promise<ConsentDecision> {
    this.stats.consentsAsked++;
    const decision = await this.consent({
      clientId: String(fetched.claims.client_id ?? ''),
      scope: String(fetched.claims.scope ?? ''),
      requestedClaims,
      requestedScopes: fetched.userConsent?.requested_scopes ?? {},
    });
    if (!decision || (decision.decision !== 'granted' && decision.decision !== 'denied')) {
      throw new IdpProtocolError('INVALID_ARGUMENT', 'consent policy returned neither granted nor denied');
    }
    return decision;
  }
}

/**
 * The redirect the client receives: the IDP's Location without the SSO token (that stays on the
 * device). The Location must address the client's redirect_uri.
 */
function clientLocation(redirect: CodeRedirect, redirectUri: string): string {
  const url = new URL(redirect.location);
  url.searchParams.delete(PARAM.ssoToken);
  if (redirectUri) {
    const expected = new URL(redirectUri);
    if (url.origin !== expected.origin || url.pathname !== expected.pathname) {
      throw new IdpProtocolError('ENDPOINT_MISMATCH', `the IDP redirected to ${url.origin}${url.pathname}, not to the client's redirect_uri ${redirectUri}`);
    }
  }
  return url.toString();
}
