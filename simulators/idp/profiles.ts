/**
 * Where gematik's reference IDP (ref-idp-server) and the production IDP-Dienst differ, as limits the
 * simulated IDP applies by `idp.profile`. Every value with its source: docs/idp.md §Profiles.
 */
import type { IdpProfileName } from '../lib/config';

export interface IdpLifetimes {
  /** CHALLENGE_TOKEN (A_20314: at most 180 s). */
  challengeS: number;
  /** AUTHORIZATION_CODE (A_20314: at most 60 s). */
  codeS: number;
  /** ACCESS_TOKEN (A_20463; token response expires_in 300). */
  accessTokenS: number;
  /** ID_TOKEN (A_20462). */
  idTokenS: number;
  /** SSO_TOKEN (A_20692-01). */
  ssoS: number;
  /** Consent token of the consent endpoint (ti-harness extension). */
  consentTokenS: number;
  /** Discovery document (A_20691-01: at most 24 h old). */
  discoveryS: number;
}

export interface IdpLimits {
  name: IdpProfileName;
  lifetimes: IdpLifetimes;
  /** Longest accepted state (undefined: no limit beyond "not empty"). */
  stateMaxLength?: number;
  /** Longest accepted nonce. */
  nonceMaxLength?: number;
  /** state and nonce must be printable ASCII (0x20..0x7E). */
  printableStateAndNonce: boolean;
  /** Longest accepted redirect_uri. */
  redirectUriMaxLength?: number;
  /** 1022 / 1030 (scope errors) of GET authorization travel as redirect (true) or as 400 JSON. */
  scopeErrorsRedirect: boolean;
  /** An SSO token only serves challenges of the client (and redirect_uri) it was issued to (else 2041). */
  ssoBoundToClient: boolean;
  /** Redeeming an SSO token checks the AUT certificate's OCSP status again (else 2040). */
  ssoRechecksCertificate: boolean;
}

const COMMON_LIFETIMES: Omit<IdpLifetimes, 'ssoS'> = {
  challengeS: 180,
  codeS: 60,
  accessTokenS: 300,
  idTokenS: 300,
  consentTokenS: 60,
  discoveryS: 24 * 3600,
};

export const IDP_PROFILES: Record<IdpProfileName, IdpLimits> = {
  reference: {
    name: 'reference',
    lifetimes: { ...COMMON_LIFETIMES, ssoS: 12 * 3600 },
    printableStateAndNonce: false,
    scopeErrorsRedirect: true,
    ssoBoundToClient: false,
    ssoRechecksCertificate: false,
  },
  production: {
    name: 'production',
    lifetimes: { ...COMMON_LIFETIMES, ssoS: 12 * 3600 },
    stateMaxLength: 32,
    nonceMaxLength: 32,
    printableStateAndNonce: true,
    redirectUriMaxLength: 2000,
    scopeErrorsRedirect: false,
    ssoBoundToClient: true,
    ssoRechecksCertificate: true,
  },
};

/** The production IDP-Dienst caps any configured SSO lifetime at 24 h (A_20692-01). */
export const MAX_SSO_LIFETIME_S = 24 * 3600;
