/**
 * The gematik error model of the IDP: every gematik_code with its OAuth2 `error`, the German
 * gematik_error_text and how it travels (HTTP status of the JSON answer, or a 302 to redirect_uri).
 *
 * Texts and HTTP status from the production IDP-Dienst's error table (RISE accesskeeper, class
 * ErrorCodes) and gematik's ref-idp-server (application.yml errorCodeMap, IdpAuthenticator,
 * TokenService, PkceChecker); the approval test suite of the IDP-Dienst (ref-idp-server
 * idp-testsuite) confirms the 400/302 split. Table with sources: docs/idp.md §Errors.
 */
import * as crypto from 'node:crypto';
import type { HttpResponse } from '../lib/http';
import { IDP_ERROR_CODES, type IdpErrorBody, type IdpErrorName } from '../lib/idp-protocol';

export type OAuthError =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'unsupported_response_type'
  | 'unsupported_grant_type'
  | 'access_denied'
  | 'server_error';

export interface IdpErrorSpec {
  error: OAuthError;
  /** gematik_error_text (German, as the gematik IDPs send it). */
  text: string;
  /** HTTP status when answered as JSON. */
  status: number;
  /**
   * The error travels as 302 to the redirect_uri when it arises on GET authorization after client_id
   * and redirect_uri were accepted ('profile': depends on IdpLimits.scopeErrorsRedirect).
   */
  redirect: boolean | 'profile';
}

const spec = (error: OAuthError, text: string, status = 400, redirect: IdpErrorSpec['redirect'] = false): IdpErrorSpec => ({ error, text, status, redirect });

export const IDP_ERRORS: Record<IdpErrorName, IdpErrorSpec> = {
  clientIdMissing: spec('invalid_request', 'client_id wurde nicht übermittelt'),
  redirectUriMissing: spec('invalid_request', 'redirect_uri wurde nicht übermittelt'),
  scopeMissing: spec('invalid_request', 'scope wurde nicht übermittelt', 400, true),
  redirectUriInvalid: spec('invalid_request', 'redirect_uri ist ungültig'),
  scopeInvalid: spec('invalid_scope', 'scope ist ungültig', 400, 'profile'),
  fachdienstUnknown: spec('invalid_scope', 'Fachdienst ist unbekannt', 400, 'profile'),
  generalError: spec('server_error', 'Allgemeiner Serverfehler', 500),
  requestSignatureMissing: spec('invalid_request', 'Der Request wurde nicht signiert'),
  stateMissing: spec('invalid_request', 'state wurde nicht übermittelt', 400, true),
  algorithmInvalid: spec('invalid_request', 'Es wurde ein ungültiger Algorithmus verwendet'),
  responseTypeMissing: spec('invalid_request', 'response_type wurde nicht übermittelt', 400, true),
  responseTypeNotSupported: spec('unsupported_response_type', 'response_type wird nicht unterstützt', 400, true),
  stateInvalid: spec('invalid_request', 'state ist ungültig', 400, true),
  nonceInvalid: spec('invalid_request', 'nonce ist ungültig', 400, true),
  codeChallengeMethodInvalid: spec('invalid_request', 'code_challenge_method ist ungültig', 400, true),
  codeChallengeMissing: spec('invalid_request', 'code_challenge wurde nicht übermittelt', 400, true),
  codeChallengeInvalid: spec('invalid_request', 'code_challenge ist ungültig', 400, true),
  requestParameterDuplicate: spec('invalid_request', 'Requestparameter mehrfach vorhanden'),
  clientIdInvalid: spec('invalid_request', 'client_id ist ungültig'),
  requestSignatureInvalid: spec('invalid_request', 'Der Request besitzt keine gültige Signatur'),
  signingAlgorithmInvalid: spec('invalid_request', 'IDP-Signaturalgorithmus ist ungültig'),
  autCertificateInvalid: spec('invalid_request', 'Das AUT Zertifikat ist ungültig'),
  autCertificateMissing: spec('invalid_request', 'Das AUT Zertifikat wurde nicht übermittelt'),
  noResponseFromOcspOrTimeout: spec('invalid_request', 'Keine Antwort des OCSP oder Timeout'),
  challengeInvalid: spec('invalid_request', 'Challenge ist ungültig'),
  authorizationExpMissing: spec('invalid_request', 'exp wurde nicht übermittelt'),
  challengeExpired: spec('invalid_request', 'Challenge ist abgelaufen'),
  ssoTokenInvalid: spec('access_denied', 'SSO_TOKEN nicht valide, bitte um neuerliche Authentisierung'),
  ssoTokenAndChallengeIncompatible: spec('access_denied', 'SSO_TOKEN und Challenge passen nicht zusammen, bitte um neuerliche Authentisierung'),
  claimsOfUserConsentIsMissing: spec('access_denied', 'Nicht alle angeforderten Claims sind im UserConsent vorhanden, bitte um neuerliche Authentisierung'),
  encryptionFailed: spec('server_error', 'Verschlüsselung nicht möglich', 500),
  unknownError: spec('server_error', 'Ein Fehler ist aufgetreten', 500, true),
  codeVerifierAndCodeChallengeIncompatible: spec('invalid_grant', 'code_verifier stimmt nicht mit code_challenge überein'),
  missingClaimsInAuthenticationCode: spec('invalid_grant', 'Claims unvollständig im Authorization Code'),
  tokenRequestParameterDuplicate: spec('invalid_request', 'Tokenendpunkt Requestparameter mehrfach vorhanden'),
  codeVerifierMissing: spec('invalid_request', 'code_verifier wurde nicht übermittelt'),
  authorizationCodeMissing: spec('invalid_request', 'Authorization Code wurde nicht übermittelt'),
  grantTypeMissing: spec('invalid_request', 'grant_type wurde nicht übermittelt'),
  tokenClientIdInvalid: spec('invalid_client', 'client_id ist ungültig'),
  authorizationCodeSignatureInvalid: spec('invalid_grant', 'Authorization Code Signatur ungültig'),
  authorizationCodeExpired: spec('invalid_grant', 'Authorization Code ist abgelaufen'),
  tokenExpMissing: spec('invalid_grant', 'exp wurde nicht übermittelt'),
  authorizationCodeNotReadable: spec('invalid_grant', 'Authorization Code ist nicht lesbar'),
  grantTypeNotSupported: spec('unsupported_grant_type', 'grant_type wird nicht unterstützt'),
  codeVerifierInvalid: spec('invalid_request', 'code_verifier ist ungültig'),
  keyVerifierMissing: spec('invalid_request', 'key_verifier wurde nicht übermittelt'),
  keyVerifierNotReadable: spec('invalid_request', 'key_verifier ist nicht lesbar'),
  tokenKeyMissing: spec('invalid_request', 'token_key wurde nicht übermittelt'),
  tokenKeyNotReadable: spec('invalid_request', 'token_key ist nicht lesbar'),
};

export interface RedirectTarget {
  redirectUri: string;
  state?: string;
}

/** An error the IDP answers with (JSON or, with `redirect`, a 302 to the client). */
export class IdpError extends Error {
  override name = 'IdpError';
  readonly code: string;
  readonly spec: IdpErrorSpec;
  constructor(
    readonly errorName: IdpErrorName,
    /** error_description: what exactly was wrong (English, no personal data). */
    readonly description?: string,
    readonly options: { redirect?: RedirectTarget; status?: number; headers?: Record<string, string> } = {},
  ) {
    super(`${IDP_ERROR_CODES[errorName]} ${IDP_ERRORS[errorName].text}${description ? ` (${description})` : ''}`);
    this.code = IDP_ERROR_CODES[errorName];
    this.spec = IDP_ERRORS[errorName];
  }

  get status(): number {
    return this.options.redirect ? 302 : (this.options.status ?? this.spec.status);
  }
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** Description length limit in a Location header (the reference IDP cuts at 200 characters). */
const MAX_DESCRIPTION = 200;

export function errorBody(e: IdpError, nowSeconds: number): IdpErrorBody {
  return {
    error: e.spec.error,
    gematik_code: e.code,
    gematik_timestamp: nowSeconds,
    gematik_uuid: crypto.randomUUID(),
    gematik_error_text: e.spec.text,
    ...(e.description ? { error_description: e.description.slice(0, MAX_DESCRIPTION) } : {}),
  };
}

/** The HTTP answer for an IdpError: JSON with the spec's status, or 302 with the members as query. */
export function renderIdpError(e: IdpError, nowSeconds: number): HttpResponse {
  const body = errorBody(e, nowSeconds);
  if (e.options.redirect) {
    const url = new URL(e.options.redirect.redirectUri);
    for (const [k, v] of Object.entries(body)) url.searchParams.append(k, String(v));
    if (e.options.redirect.state !== undefined) url.searchParams.append('state', e.options.redirect.state);
    return { status: 302, headers: { location: url.toString(), ...NO_STORE } };
  }
  return {
    status: e.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE, ...(e.options.headers ?? {}) },
    body: JSON.stringify(body),
  };
}

/** RFC 6749/7009/7662-shaped error for the endpoints that have no gematik codes (logout, revocation, introspection). */
export function oauthError(status: number, error: OAuthError, description: string): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE },
    body: JSON.stringify({ error, error_description: description }),
  };
}
