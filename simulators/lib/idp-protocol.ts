/**
 * The gematik IDP protocol as the simulated IDP (simulators/idp) and every client we write
 * (simulators/lib/idp-client.ts, the Authentisierungsmodul in simulators/authenticator) speak it:
 * one table of names, so server and clients cannot drift apart. Facts from gemSysL_eRp §4.2 and
 * gematik's public reference IDP (ref-idp-server: tokenFlow, discovery document, error codes).
 * Flow and extensions: docs/idp.md.
 */

/** Discovery document path (OIDC Discovery 1.0); everything else is read from the document. */
export const DISCOVERY_PATH = '/.well-known/openid-configuration';

/** Discovery document members clients rely on. Standard OIDC/OAuth names where one exists. */
export interface IdpDiscoveryDocument {
  issuer: string;
  authorization_endpoint: string;
  sso_endpoint: string;
  token_endpoint: string;
  /** OIDC RP-initiated logout name: ends an SSO session (A_18858). */
  end_session_endpoint: string;
  /** RFC 7009: the user declares a token invalid (A_18857). */
  revocation_endpoint: string;
  /** RFC 7662: relying parties (the Fachdienst) ask whether a token is still active. */
  introspection_endpoint: string;
  /** ti-harness extension: the separate "Einwilligung erteilen" operation (A_18915, A_18888). */
  consent_endpoint: string;
  jwks_uri: string;
  uri_disc: string;
  uri_puk_idp_enc: string;
  uri_puk_idp_sig: string;
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: string[];
  response_types_supported: string[];
  scopes_supported: string[];
  response_modes_supported: string[];
  grant_types_supported: string[];
  acr_values_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  code_challenge_methods_supported: string[];
  iat: number;
  exp: number;
  [extra: string]: unknown;
}

export const KID = {
  discoverySignature: 'puk_disc_sig',
  idpSignature: 'puk_idp_sig',
  idpEncryption: 'puk_idp_enc',
} as const;

export const ACR_HIGH = 'gematik-ehealth-loa-high';
export const AMR_SMARTCARD = ['mfa', 'sc', 'pin'] as const;
export const SCOPE_OPENID = 'openid';

/** Form/query parameter names. */
export const PARAM = {
  clientId: 'client_id',
  clientSecret: 'client_secret',
  responseType: 'response_type',
  redirectUri: 'redirect_uri',
  state: 'state',
  nonce: 'nonce',
  scope: 'scope',
  codeChallenge: 'code_challenge',
  codeChallengeMethod: 'code_challenge_method',
  prompt: 'prompt',
  signedChallenge: 'signed_challenge',
  ssoToken: 'ssotoken',
  unsignedChallenge: 'unsigned_challenge',
  consentToken: 'consent_token',
  consent: 'consent',
  consentedClaims: 'consented_claims',
  code: 'code',
  grantType: 'grant_type',
  keyVerifier: 'key_verifier',
  token: 'token',
  tokenTypeHint: 'token_type_hint',
} as const;

/** `token_type` claim of the IDP's own JWTs. */
export const TOKEN_TYPE = {
  challenge: 'challenge',
  code: 'code',
  sso: 'sso',
  consent: 'consent',
  access: 'access_token',
  id: 'id_token',
} as const;

/** Identity claims a service scope may request (derived from the AUT certificate, A_18808). */
export const IDENTITY_CLAIMS = ['professionOID', 'idNummer', 'given_name', 'family_name', 'organizationName', 'display_name'] as const;
export type IdentityClaim = (typeof IDENTITY_CLAIMS)[number];

/** German consent texts shown to the user for each claim (user_consent.requested_claims). */
export const CLAIM_DESCRIPTIONS: Record<IdentityClaim, string> = {
  professionOID: 'Zustimmung zur Verarbeitung der Rolle',
  idNummer: 'Zustimmung zur Verarbeitung der Id (z.B. Krankenversichertennummer, Telematik-Id)',
  given_name: 'Zustimmung zur Verarbeitung des Vornamens',
  family_name: 'Zustimmung zur Verarbeitung des Nachnamens',
  organizationName: 'Zustimmung zur Verarbeitung der Organisationszugehörigkeit',
  display_name: 'Zustimmung zur Verarbeitung des Anzeigenamens',
};

/** Answer of GET authorization_endpoint: the challenge and what the user is asked to consent to. */
export interface ChallengeResponse {
  challenge: string;
  user_consent: {
    requested_scopes: Record<string, string>;
    requested_claims: Record<string, string>;
  };
}

/** Answer of POST authorization_endpoint when consent is still missing (A_18887 Param-Out). */
export interface ConsentRequiredResponse {
  consent_required: true;
  consent_token: string;
  requested_claims: Record<string, string>;
}

/** Answer of POST token_endpoint (tokens are JWE dir/A256GCM with the client's token_key). */
export interface TokenResponse {
  access_token: string;
  id_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/**
 * The gematik error model (JSON body, or the same members as query parameters of a 302).
 *
 * How an error travels (facts from gematik's ref-idp-server, its IDP-Dienst approval test suite and
 * the production IDP-Dienst; table in docs/idp.md and simulators/idp/errors.ts):
 *   - GET authorization_endpoint: client_id / redirect_uri missing, unknown or mismatching → 400 JSON;
 *     once both are valid, parameter errors (state, nonce, response_type, code_challenge, …) →
 *     302 to redirect_uri with error, gematik_code, gematik_timestamp, gematik_uuid,
 *     gematik_error_text, error_description and state (parseIdpErrorRedirect reads them).
 *   - POST authorization_endpoint (signed challenge), sso_endpoint, consent_endpoint, token_endpoint,
 *     end_session/revocation/introspection: 400 JSON (the request carries no redirect_uri).
 *   - consent_endpoint with consent=denied: 302 to redirect_uri with error=access_denied (no code).
 *   - token_endpoint, web client with missing/wrong client_secret: 401 JSON invalid_client (+ WWW-Authenticate).
 */
export interface IdpErrorBody {
  error: string;
  gematik_code: string;
  gematik_timestamp: number;
  gematik_uuid: string;
  gematik_error_text: string;
  error_description?: string;
}

/**
 * gematik error codes (1xxx general, 2xxx authorization endpoint, 3xxx token endpoint) with the
 * OAuth2 `error` the code travels with. Code numbers from gematik's public IDP clients; texts and
 * the HTTP status/redirect split: simulators/idp/errors.ts and docs/idp.md.
 */
export const IDP_ERROR_CODES = {
  clientIdMissing: '1002',
  redirectUriMissing: '1004',
  scopeMissing: '1005',
  redirectUriInvalid: '1020',
  scopeInvalid: '1022',
  fachdienstUnknown: '1030',
  generalError: '1500',
  requestSignatureMissing: '2001',
  stateMissing: '2002',
  algorithmInvalid: '2003',
  responseTypeMissing: '2004',
  responseTypeNotSupported: '2005',
  stateInvalid: '2006',
  nonceInvalid: '2007',
  codeChallengeMethodInvalid: '2008',
  codeChallengeMissing: '2009',
  codeChallengeInvalid: '2010',
  requestParameterDuplicate: '2011',
  clientIdInvalid: '2012',
  requestSignatureInvalid: '2013',
  signingAlgorithmInvalid: '2015',
  autCertificateInvalid: '2020',
  autCertificateMissing: '2044',
  noResponseFromOcspOrTimeout: '2021',
  challengeInvalid: '2030',
  authorizationExpMissing: '2031',
  challengeExpired: '2032',
  ssoTokenInvalid: '2040',
  ssoTokenAndChallengeIncompatible: '2041',
  claimsOfUserConsentIsMissing: '2042',
  encryptionFailed: '2050',
  unknownError: '2100',
  codeVerifierAndCodeChallengeIncompatible: '3000',
  missingClaimsInAuthenticationCode: '3001',
  tokenRequestParameterDuplicate: '3002',
  codeVerifierMissing: '3004',
  authorizationCodeMissing: '3005',
  grantTypeMissing: '3006',
  tokenClientIdInvalid: '3007',
  authorizationCodeSignatureInvalid: '3010',
  authorizationCodeExpired: '3011',
  tokenExpMissing: '3012',
  authorizationCodeNotReadable: '3013',
  grantTypeNotSupported: '3014',
  codeVerifierInvalid: '3016',
  keyVerifierMissing: '3020',
  keyVerifierNotReadable: '3021',
  tokenKeyMissing: '3022',
  tokenKeyNotReadable: '3023',
} as const;
export type IdpErrorName = keyof typeof IDP_ERROR_CODES;

/** Values of the `consent` form parameter at the consent endpoint. */
export const CONSENT_ANSWER = { granted: 'granted', denied: 'denied' } as const;

/** Content type of the signed discovery document. */
export const DISCOVERY_CONTENT_TYPE = 'application/jwt;charset=UTF-8';

/** `cty` of every IDP JWE whose plaintext is {"njwt": "<JWS>"} (signed challenge, code, tokens). */
export const CTY_NESTED_JWT = 'NJWT';

/** Plaintext of the key_verifier JWE (ECDH-ES to puk_idp_enc, cty "JSON"). */
export interface KeyVerifierPayload {
  /** base64url of 32 random bytes: the AES-256 key of the token JWEs. */
  token_key: string;
  /** The PKCE code_verifier (RFC 7636: 43..128 characters of [A-Za-z0-9-._~]). */
  code_verifier: string;
}

/** Answer of POST introspection_endpoint (RFC 7662). */
export type IntrospectionResponse = { active: false } | ({ active: true; token_type: 'Bearer' } & Record<string, unknown>);

/**
 * Reads a gematik error from the Location of a 302 (the IDP's redirect-borne errors). Returns
 * undefined when the URL carries no `error` parameter (e.g. a successful ?code=… redirect).
 */
export function parseIdpErrorRedirect(location: string): (IdpErrorBody & { state?: string }) | undefined {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return undefined;
  }
  const q = url.searchParams;
  const error = q.get('error');
  if (!error) return undefined;
  const timestamp = Number(q.get('gematik_timestamp'));
  return {
    error,
    gematik_code: q.get('gematik_code') ?? '',
    gematik_timestamp: Number.isFinite(timestamp) ? timestamp : 0,
    gematik_uuid: q.get('gematik_uuid') ?? '',
    gematik_error_text: q.get('gematik_error_text') ?? '',
    ...(q.get('error_description') !== null ? { error_description: q.get('error_description') as string } : {}),
    ...(q.get('state') !== null ? { state: q.get('state') as string } : {}),
  };
}
