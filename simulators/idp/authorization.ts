/**
 * The authorization endpoint and its companions:
 *   GET  authorization_endpoint  authorization request → challenge + user_consent (A_18799)
 *   POST authorization_endpoint  signed challenge (A_18887/A_18914) → code, or consent_required
 *   POST consent_endpoint        "Einwilligung erteilen" (A_18888/A_18915) → code
 *   POST sso_endpoint            SSO token + fresh challenge (A_18809) → code without card signature
 * Flow and error transport: docs/idp.md.
 */
import type { HttpResponse, RequestContext } from '../lib/http';
import {
  ACR_HIGH,
  AMR_SMARTCARD,
  CLAIM_DESCRIPTIONS,
  CONSENT_ANSWER,
  CTY_NESTED_JWT,
  IDENTITY_CLAIMS,
  PARAM,
  SCOPE_OPENID,
  TOKEN_TYPE,
  type ChallengeResponse,
  type ConsentRequiredResponse,
  type IdentityClaim,
} from '../lib/idp-protocol';
import { decodeJweHeader, decodeJws, decryptJweEcdhEs, JoseError, payloadJson, verifyJws, x5cCertificates } from '../lib/jose';
import type { IdpClientConfig, IdpScopeConfig } from '../lib/config';
import { OPENID_DESCRIPTION } from './clients';
import { formParams, jsonNoStore, params, redirectTo, stringClaim, type IdpContext } from './context';
import { IDP_ERRORS, IdpError } from './errors';
import { identityFromCertificate, pairwiseSubject, releasedClaims, type CardIdentity } from './identity';
import { randomId, type Claims } from './jwt';
import type { AuthSession } from './sessions';


/** The claims of a challenge this IDP issued (what the code and tokens are built from). */
export interface ChallengeClaims {
  iss: string;
  iat: number;
  exp: number;
  token_type: string;
  jti: string;
  snc: string;
  client_id: string;
  redirect_uri: string;
  state: string;
  nonce?: string;
  scope: string;
  code_challenge: string;
  code_challenge_method: string;
  response_type: string;
  prompt?: string;
}

const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const PRINTABLE = /^[\x20-\x7e]+$/;

function serviceScopeOf(ctx: IdpContext, scope: string): IdpScopeConfig {
  const names = [...new Set(scope.split(' ').filter(Boolean))].filter((s) => s !== SCOPE_OPENID);
  const s = names.length === 1 ? ctx.registry.scope(names[0]) : undefined;
  if (!s) throw new IdpError('challengeInvalid', 'the challenge names no registered service scope');
  return s;
}

// ---------------------------------------------------------------------------------------------
// GET: authorization request → challenge
// ---------------------------------------------------------------------------------------------

export function authorizationRequest(ctx: IdpContext, rc: RequestContext): HttpResponse {
  const q = params(rc.url.searchParams);
  if (q.duplicates.length) throw new IdpError('requestParameterDuplicate', `parameter(s) ${q.duplicates.join(', ')} given more than once`);
  const clientId = q.get(PARAM.clientId);
  if (!clientId) throw new IdpError('clientIdMissing');
  const client = ctx.registry.client(clientId);
  if (!client) throw new IdpError('clientIdInvalid', 'client_id is not registered');
  const redirectUri = q.get(PARAM.redirectUri);
  if (!redirectUri) throw new IdpError('redirectUriMissing');
  if (ctx.limits.redirectUriMaxLength !== undefined && redirectUri.length > ctx.limits.redirectUriMaxLength) {
    throw new IdpError('redirectUriInvalid', `redirect_uri longer than ${ctx.limits.redirectUriMaxLength} characters`);
  }
  if (!client.redirect_uris.includes(redirectUri)) throw new IdpError('redirectUriInvalid', 'redirect_uri is not registered for this client');

  // From here on the client is known: errors go back to its redirect_uri (gematik 302 errors).
  const rawState = q.get(PARAM.state);
  const stateOk = (s: string) =>
    (ctx.limits.stateMaxLength === undefined || s.length <= ctx.limits.stateMaxLength) && (!ctx.limits.printableStateAndNonce || PRINTABLE.test(s));
  const echoState = rawState && stateOk(rawState) ? rawState : undefined;
  const fail = (name: ConstructorParameters<typeof IdpError>[0], description?: string): IdpError => {
    const r = IDP_ERRORS[name].redirect;
    const redirect = r === true || (r === 'profile' && ctx.limits.scopeErrorsRedirect);
    return new IdpError(name, description, redirect ? { redirect: { redirectUri, state: echoState } } : {});
  };

  const responseType = q.get(PARAM.responseType);
  if (!responseType) throw fail('responseTypeMissing');
  if (responseType !== 'code') throw fail('responseTypeNotSupported', 'only the authorization code flow (response_type=code) is supported');
  if (!rawState) throw fail('stateMissing');
  if (!stateOk(rawState)) throw fail('stateInvalid', `state must be at most ${ctx.limits.stateMaxLength} printable ASCII characters`);
  const nonce = q.get(PARAM.nonce);
  if (nonce !== undefined) {
    const nonceOk =
      nonce.length > 0 &&
      (ctx.limits.nonceMaxLength === undefined || nonce.length <= ctx.limits.nonceMaxLength) &&
      (!ctx.limits.printableStateAndNonce || PRINTABLE.test(nonce));
    if (!nonceOk) throw fail('nonceInvalid', nonce.length ? `nonce must be at most ${ctx.limits.nonceMaxLength} printable ASCII characters` : 'nonce is empty');
  }
  const scope = q.get(PARAM.scope);
  if (!scope) throw fail('scopeMissing');
  const scopes = [...new Set(scope.split(' ').filter(Boolean))];
  const unknown = scopes.filter((s) => s !== SCOPE_OPENID && !ctx.registry.scope(s));
  const services = scopes.filter((s) => s !== SCOPE_OPENID && ctx.registry.scope(s));
  if (!scopes.includes(SCOPE_OPENID)) throw fail('scopeInvalid', 'scope must contain openid');
  if (unknown.length) throw fail('fachdienstUnknown', `unknown scope(s) ${unknown.join(', ')}`);
  if (services.length !== 1) throw fail('scopeInvalid', 'scope must name exactly one service scope besides openid');
  const codeChallenge = q.get(PARAM.codeChallenge);
  if (!codeChallenge) throw fail('codeChallengeMissing', 'PKCE is mandatory');
  if (!CODE_CHALLENGE.test(codeChallenge)) throw fail('codeChallengeInvalid', 'code_challenge must be the 43-character base64url SHA-256 of the code_verifier');
  if (q.get(PARAM.codeChallengeMethod) !== 'S256') throw fail('codeChallengeMethodInvalid', 'code_challenge_method must be S256');
  const prompt = q.get(PARAM.prompt);

  const service = ctx.registry.scope(services[0]) as IdpScopeConfig;
  const now = ctx.clock.nowSeconds();
  const claims: ChallengeClaims = {
    iss: ctx.issuer,
    iat: now,
    exp: now + ctx.limits.lifetimes.challengeS,
    token_type: TOKEN_TYPE.challenge,
    jti: randomId(),
    snc: randomId(32),
    client_id: clientId,
    redirect_uri: redirectUri,
    state: rawState,
    ...(nonce !== undefined ? { nonce } : {}),
    scope: [SCOPE_OPENID, service.scope].join(' '),
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    response_type: 'code',
    ...(prompt === 'login' ? { prompt } : {}),
  };
  ctx.challengeTimers.start(claims.jti);
  const answer: ChallengeResponse = {
    challenge: ctx.jwt.sign(claims as unknown as Claims),
    user_consent: {
      requested_scopes: { [SCOPE_OPENID]: OPENID_DESCRIPTION, [service.scope]: service.description },
      requested_claims: claimDescriptions(service.claims),
    },
  };
  return jsonNoStore(200, answer);
}

function claimDescriptions(claims: readonly IdentityClaim[]): Record<string, string> {
  return Object.fromEntries(claims.map((c) => [c, CLAIM_DESCRIPTIONS[c]]));
}

/** Verifies a challenge JWS of this IDP: signature, type and expiry (not yet its single use). */
function verifyChallenge(ctx: IdpContext, jws: string): ChallengeClaims {
  let claims: Claims;
  try {
    claims = ctx.jwt.verify(jws);
  } catch (e) {
    throw new IdpError('challengeInvalid', `the challenge is not one of this IDP (${(e as Error).message})`);
  }
  if (claims.token_type !== TOKEN_TYPE.challenge) throw new IdpError('challengeInvalid', 'token_type is not "challenge"');
  for (const k of ['jti', 'client_id', 'redirect_uri', 'state', 'scope', 'code_challenge']) stringClaim(claims, k, 'challengeInvalid', 'the challenge');
  if (typeof claims.exp !== 'number') throw new IdpError('authorizationExpMissing', 'the challenge has no exp');
  if (ctx.clock.nowSeconds() >= claims.exp) throw new IdpError('challengeExpired');
  if (ctx.singleUse.wasUsed(claims.jti as string)) throw new IdpError('challengeInvalid', 'the challenge was already used');
  return claims as unknown as ChallengeClaims;
}

/** The challenge's client, still registered with that redirect_uri. */
function clientOf(ctx: IdpContext, ch: ChallengeClaims): IdpClientConfig {
  const client = ctx.registry.client(ch.client_id);
  if (!client) throw new IdpError('clientIdInvalid', 'the client of the challenge is no longer registered');
  if (!client.redirect_uris.includes(ch.redirect_uri)) throw new IdpError('redirectUriInvalid', 'the redirect_uri of the challenge is no longer registered');
  return client;
}

// ---------------------------------------------------------------------------------------------
// Codes, SSO tokens, consent tokens
// ---------------------------------------------------------------------------------------------

function issueCode(ctx: IdpContext, ch: ChallengeClaims, session: AuthSession, service: IdpScopeConfig): string {
  const now = ctx.clock.nowSeconds();
  const exp = now + ctx.limits.lifetimes.codeS;
  const claims: Claims = {
    iss: ctx.issuer,
    iat: now,
    exp,
    jti: randomId(),
    token_type: TOKEN_TYPE.code,
    auth_time: session.authTime,
    sid: session.sid,
    sub: pairwiseSubject(ctx.keys.secrets.pairwiseSalt, session.identity.idNummer, ch.client_id),
    user_type: session.identity.userType,
    client_id: ch.client_id,
    redirect_uri: ch.redirect_uri,
    scope: ch.scope,
    code_challenge: ch.code_challenge,
    code_challenge_method: ch.code_challenge_method,
    response_type: ch.response_type,
    state: ch.state,
    ...(ch.nonce !== undefined ? { nonce: ch.nonce } : {}),
    snc: randomId(32),
    acr: ACR_HIGH,
    amr: [...AMR_SMARTCARD],
    ...releasedClaims(session.identity.claims, service.claims),
  };
  return ctx.jwt.sealDir(ctx.jwt.sign(claims), ctx.keys.secrets.code, exp);
}

function issueSsoToken(ctx: IdpContext, session: AuthSession): string {
  const now = ctx.clock.nowSeconds();
  const claims: Claims = {
    iss: ctx.issuer,
    iat: now,
    exp: session.ssoExpires,
    jti: randomId(),
    token_type: TOKEN_TYPE.sso,
    sid: session.sid,
    auth_time: session.authTime,
    amr: [...AMR_SMARTCARD],
    client_id: session.clientId,
    redirect_uri: session.redirectUri,
  };
  return ctx.jwt.sealDir(ctx.jwt.sign(claims), ctx.keys.secrets.sso, session.ssoExpires);
}

/** 302 to the client with code (and SSO token for sso clients), consent remembered by the caller. */
function codeRedirect(ctx: IdpContext, ch: ChallengeClaims, client: IdpClientConfig, session: AuthSession, service: IdpScopeConfig, withSso: boolean): HttpResponse {
  const code = issueCode(ctx, ch, session, service);
  const sso = withSso && client.sso ? issueSsoToken(ctx, session) : undefined;
  return redirectTo(ch.redirect_uri, [
    ['code', code],
    [PARAM.ssoToken, sso],
    ['state', ch.state],
  ]);
}

function consentGiven(ctx: IdpContext, identity: CardIdentity, clientId: string, service: IdpScopeConfig): boolean {
  return service.claims.length === 0 || ctx.consents.covers(identity.idNummer, clientId, service.scope, service.claims);
}

function consentRequired(ctx: IdpContext, ch: ChallengeClaims, session: AuthSession, service: IdpScopeConfig): HttpResponse {
  const now = ctx.clock.nowSeconds();
  const exp = now + ctx.limits.lifetimes.consentTokenS;
  const jti = randomId();
  const token = ctx.jwt.sealDir(
    ctx.jwt.sign({ iss: ctx.issuer, iat: now, exp, jti, token_type: TOKEN_TYPE.consent, sid: session.sid, challenge: ch, requested_claims: service.claims }),
    ctx.keys.secrets.consent,
    exp,
  );
  ctx.consentTimers.start(jti);
  const answer: ConsentRequiredResponse = { consent_required: true, consent_token: token, requested_claims: claimDescriptions(service.claims) };
  return jsonNoStore(200, answer);
}

// ---------------------------------------------------------------------------------------------
// POST: signed challenge
// ---------------------------------------------------------------------------------------------

/** Decrypts the signed_challenge JWE and verifies the card's JWS; returns the challenge JWS and the x5c certificate. */
function openSignedChallenge(ctx: IdpContext, signed: string): { challenge: string; certificate: Buffer } {
  let header: Record<string, unknown>;
  try {
    header = decodeJweHeader(signed);
  } catch (e) {
    throw new IdpError('challengeInvalid', `signed_challenge is not a JWE (${(e as Error).message})`);
  }
  if (header.alg !== 'ECDH-ES' || header.enc !== 'A256GCM') throw new IdpError('challengeInvalid', 'signed_challenge must be ECDH-ES / A256GCM');
  if (header.cty !== CTY_NESTED_JWT) throw new IdpError('challengeInvalid', 'signed_challenge: cty must be NJWT');
  if ((header.epk as { crv?: unknown } | undefined)?.crv !== 'BP-256') throw new IdpError('challengeInvalid', 'signed_challenge: epk must be a BP-256 key');
  if (typeof header.exp !== 'number') throw new IdpError('authorizationExpMissing', 'signed_challenge has no exp header');
  if (ctx.clock.nowSeconds() >= header.exp) throw new IdpError('challengeExpired');
  let njwt: unknown;
  try {
    njwt = payloadJson<{ njwt?: unknown }>(decryptJweEcdhEs(signed, ctx.keys.idpEncryption.privateKey).plaintext).njwt;
  } catch (e) {
    throw new IdpError('challengeInvalid', `signed_challenge cannot be decrypted with puk_idp_enc (${(e as Error).message})`);
  }
  if (typeof njwt !== 'string') throw new IdpError('challengeInvalid', 'signed_challenge holds no "njwt"');
  let decoded;
  try {
    decoded = decodeJws(njwt);
  } catch (e) {
    throw new IdpError('challengeInvalid', `the card's JWS is malformed (${(e as Error).message})`);
  }
  if (decoded.header.alg !== 'BP256R1') throw new IdpError('algorithmInvalid', `the card's JWS uses alg ${JSON.stringify(decoded.header.alg)}, BP256R1 required`);
  if (decoded.header.cty !== CTY_NESTED_JWT) throw new IdpError('challengeInvalid', "the card's JWS: cty must be NJWT");
  let certs;
  try {
    certs = x5cCertificates(decoded.header);
  } catch (e) {
    throw new IdpError('autCertificateInvalid', `x5c: ${(e as Error).message}`);
  }
  if (!certs.length) throw new IdpError('autCertificateMissing');
  try {
    verifyJws(njwt, certs[0]);
  } catch (e) {
    if (e instanceof JoseError && (e.code === 'BAD_SIGNATURE' || e.code === 'ALG_MISMATCH')) throw new IdpError('requestSignatureInvalid', 'the signature does not verify with the x5c certificate');
    throw new IdpError('requestSignatureInvalid', (e as Error).message);
  }
  let challenge: unknown;
  try {
    challenge = payloadJson<{ njwt?: unknown }>(decoded.payload).njwt;
  } catch {
    challenge = undefined;
  }
  if (typeof challenge !== 'string') throw new IdpError('challengeInvalid', "the card's JWS payload holds no challenge (\"njwt\")");
  return { challenge, certificate: certs[0].raw };
}

export async function signedChallenge(ctx: IdpContext, rc: RequestContext): Promise<HttpResponse> {
  const t0 = performance.now();
  let outcome: 'success' | 'error' = 'error';
  try {
    const form = formParams(rc.body);
    const signed = form.get(PARAM.signedChallenge);
    if (!signed) throw new IdpError('challengeInvalid', 'signed_challenge missing');
    const { challenge, certificate } = openSignedChallenge(ctx, signed);
    const ch = verifyChallenge(ctx, challenge);
    const waited = ctx.challengeTimers.stop(ch.jti);
    if (waited !== undefined) ctx.metrics.authenticatorResponse(waited);
    const client = clientOf(ctx, ch);
    const service = serviceScopeOf(ctx, ch.scope);
    const aut = await ctx.trust.validateAutCertificate(certificate);
    const identity = identityFromCertificate(aut.parsed, aut.kind);
    if (!identity) throw new IdpError('autCertificateInvalid', 'the certificate carries no idNummer (KVNR / Telematik-ID)');
    if (!ctx.singleUse.consume(ch.jti, ch.exp)) throw new IdpError('challengeInvalid', 'the challenge was already used');
    const session = ctx.sessions.open(identity, ctx.limits.lifetimes.ssoS, ch.client_id, ch.redirect_uri);
    let answer: HttpResponse;
    if (ctx.consentMode === 'implicit') {
      // Signing the challenge after the user_consent was shown counts as consent (as gematik's reference IDP).
      ctx.consents.remember(identity.idNummer, ch.client_id, service.scope, service.claims);
      answer = codeRedirect(ctx, ch, client, session, service, true);
    } else if (consentGiven(ctx, identity, ch.client_id, service)) {
      answer = codeRedirect(ctx, ch, client, session, service, true);
    } else {
      answer = consentRequired(ctx, ch, session, service);
    }
    outcome = 'success';
    return answer;
  } finally {
    ctx.metrics.signedChallenge(outcome, (performance.now() - t0) / 1000);
  }
}

// ---------------------------------------------------------------------------------------------
// POST: consent
// ---------------------------------------------------------------------------------------------

export function consent(ctx: IdpContext, rc: RequestContext): HttpResponse {
  const form = formParams(rc.body);
  const token = form.get(PARAM.consentToken);
  if (!token) throw new IdpError('challengeInvalid', 'consent_token missing');
  let claims: Claims;
  try {
    claims = ctx.jwt.verify(ctx.jwt.openDir(token, ctx.keys.secrets.consent).njwt);
  } catch (e) {
    throw new IdpError('challengeInvalid', `consent_token is not one of this IDP (${(e as Error).message})`);
  }
  if (claims.token_type !== TOKEN_TYPE.consent || typeof claims.jti !== 'string' || typeof claims.sid !== 'string') {
    throw new IdpError('challengeInvalid', 'not a consent token');
  }
  if (typeof claims.exp !== 'number') throw new IdpError('authorizationExpMissing', 'consent_token has no exp');
  if (ctx.clock.nowSeconds() >= claims.exp) throw new IdpError('challengeExpired', 'the consent token has expired');
  if (ctx.singleUse.wasUsed(claims.jti)) throw new IdpError('challengeInvalid', 'the consent token was already used');
  const ch = claims.challenge as ChallengeClaims;
  const requested = (claims.requested_claims as IdentityClaim[]) ?? [];
  const answer = form.get(PARAM.consent);
  if (answer !== CONSENT_ANSWER.granted && answer !== CONSENT_ANSWER.denied) {
    throw new IdpError('claimsOfUserConsentIsMissing', 'consent must be "granted" or "denied"');
  }
  const session = ctx.sessions.active(claims.sid);
  if (!session) throw new IdpError('challengeInvalid', 'the authentication of this consent token has ended');
  const client = clientOf(ctx, ch);
  const service = serviceScopeOf(ctx, ch.scope);
  if (answer === CONSENT_ANSWER.granted) {
    const consented = [...new Set((form.get(PARAM.consentedClaims) ?? '').split(' ').filter(Boolean))];
    const unknownClaims = consented.filter((c) => !(IDENTITY_CLAIMS as readonly string[]).includes(c));
    const missing = requested.filter((c) => !consented.includes(c));
    const extra = consented.filter((c) => !requested.includes(c as IdentityClaim));
    if (unknownClaims.length || missing.length || extra.length) {
      const why = [
        unknownClaims.length ? `unknown claim(s) ${unknownClaims.join(', ')}` : '',
        missing.length ? `missing ${missing.join(', ')}` : '',
        extra.length ? `not requested ${extra.join(', ')}` : '',
      ].filter(Boolean);
      throw new IdpError('claimsOfUserConsentIsMissing', `consented_claims must equal the requested claims: ${why.join('; ')}`);
    }
  }
  if (!ctx.singleUse.consume(claims.jti, claims.exp)) throw new IdpError('challengeInvalid', 'the consent token was already used');
  const waited = ctx.consentTimers.stop(claims.jti);
  if (waited !== undefined) ctx.metrics.consentResponse(waited);
  if (answer === CONSENT_ANSWER.denied) {
    ctx.sessions.end(session.sid);
    throw new IdpError('claimsOfUserConsentIsMissing', 'the user denied the consent', { redirect: { redirectUri: ch.redirect_uri, state: ch.state } });
  }
  ctx.consents.remember(session.identity.idNummer, ch.client_id, service.scope, requested);
  return codeRedirect(ctx, ch, client, session, service, true);
}

// ---------------------------------------------------------------------------------------------
// POST: SSO
// ---------------------------------------------------------------------------------------------

export async function ssoAuthorization(ctx: IdpContext, rc: RequestContext): Promise<HttpResponse> {
  const form = formParams(rc.body);
  const ssoToken = form.get(PARAM.ssoToken);
  if (!ssoToken) throw new IdpError('ssoTokenInvalid', 'ssotoken missing');
  const challenge = form.get(PARAM.unsignedChallenge);
  if (!challenge) throw new IdpError('challengeInvalid', 'unsigned_challenge missing');
  const ch = verifyChallenge(ctx, challenge);
  let sso: Claims;
  try {
    sso = ctx.jwt.verify(ctx.jwt.openDir(ssoToken, ctx.keys.secrets.sso).njwt);
  } catch {
    throw new IdpError('ssoTokenInvalid', 'the SSO token is not one of this IDP');
  }
  if (sso.token_type !== TOKEN_TYPE.sso || typeof sso.sid !== 'string') throw new IdpError('ssoTokenInvalid', 'not an SSO token');
  if (typeof sso.exp !== 'number' || ctx.clock.nowSeconds() >= sso.exp) throw new IdpError('ssoTokenInvalid', 'the SSO token has expired');
  const session = ctx.sessions.active(sso.sid);
  if (!session) throw new IdpError('ssoTokenInvalid', 'the SSO session has ended (logout) or expired');
  if (ch.prompt === 'login') throw new IdpError('ssoTokenAndChallengeIncompatible', 'the challenge was issued with prompt=login: a new card authentication is required');
  if (ctx.limits.ssoBoundToClient && (sso.client_id !== ch.client_id || sso.redirect_uri !== ch.redirect_uri)) {
    throw new IdpError('ssoTokenAndChallengeIncompatible', 'the SSO token was issued to another client or redirect_uri');
  }
  const client = clientOf(ctx, ch);
  const service = serviceScopeOf(ctx, ch.scope);
  if (ctx.limits.ssoRechecksCertificate) {
    try {
      await ctx.trust.validateAutCertificate(session.identity.certificate);
    } catch (e) {
      if (e instanceof IdpError) throw new IdpError('ssoTokenInvalid', `the AUT certificate of the session is no longer valid: ${e.description ?? e.code}`);
      throw e;
    }
  }
  if (ctx.consentMode === 'explicit' && !consentGiven(ctx, session.identity, ch.client_id, service)) {
    throw new IdpError('claimsOfUserConsentIsMissing', 'no consent for this client and scope yet: authenticate with the card');
  }
  if (!ctx.singleUse.consume(ch.jti, ch.exp)) throw new IdpError('challengeInvalid', 'the challenge was already used');
  if (ctx.consentMode === 'implicit') ctx.consents.remember(session.identity.idNummer, ch.client_id, service.scope, service.claims);
  return codeRedirect(ctx, ch, client, session, service, false);
}
