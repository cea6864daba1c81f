/**
 * The discovery document (OIDC Discovery 1.0 as gematik profiles it: a JWS signed with
 * puk_disc_sig, x5c = its C.IDP.SIG certificate, valid 24 h, A_20591-01 / A_20691-01) and the
 * public keys puk_idp_sig (with x5c) and puk_idp_enc as JWK.
 */
import { bp256PublicKeyToJwk } from '../lib/bp256';
import type { HttpResponse } from '../lib/http';
import { ACR_HIGH, DISCOVERY_CONTENT_TYPE, KID, type IdpDiscoveryDocument } from '../lib/idp-protocol';
import { signJws } from '../lib/jose';
import { IDP_PATHS, NO_STORE, type IdpContext } from './context';

export function discoveryDocument(ctx: IdpContext): IdpDiscoveryDocument {
  const base = ctx.issuer;
  const now = ctx.clock.nowSeconds();
  return {
    issuer: base,
    authorization_endpoint: `${base}${IDP_PATHS.authorization}`,
    sso_endpoint: `${base}${IDP_PATHS.sso}`,
    token_endpoint: `${base}${IDP_PATHS.token}`,
    end_session_endpoint: `${base}${IDP_PATHS.endSession}`,
    revocation_endpoint: `${base}${IDP_PATHS.revocation}`,
    introspection_endpoint: `${base}${IDP_PATHS.introspection}`,
    consent_endpoint: `${base}${IDP_PATHS.consent}`,
    jwks_uri: `${base}${IDP_PATHS.jwks}`,
    uri_disc: `${base}${IDP_PATHS.discovery}`,
    uri_puk_idp_enc: `${base}${IDP_PATHS.pukIdpEnc}`,
    uri_puk_idp_sig: `${base}${IDP_PATHS.pukIdpSig}`,
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['BP256R1'],
    response_types_supported: ['code'],
    scopes_supported: ctx.registry.scopeNames(),
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code'],
    acr_values_supported: [ACR_HIGH],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
    code_challenge_methods_supported: ['S256'],
    prompt_values_supported: ['login'],
    iat: now,
    exp: now + ctx.limits.lifetimes.discoveryS,
  };
}

export function signedDiscovery(ctx: IdpContext): HttpResponse {
  const sig = ctx.keys.discoverySignature;
  const jws = signJws(discoveryDocument(ctx), sig.privateKey, { kid: KID.discoverySignature, x5c: [sig.certificate.toString('base64')], typ: 'JWT' });
  // Re-signed on every request (iat = now): clients may cache it for up to 5 minutes (ref-idp-server caching.discoveryDocument).
  return { status: 200, headers: { 'content-type': DISCOVERY_CONTENT_TYPE, 'cache-control': 'max-age=300' }, body: jws };
}

export function signatureJwk(ctx: IdpContext): Record<string, unknown> {
  const sig = ctx.keys.idpSignature;
  return { ...bp256PublicKeyToJwk(sig.publicKey), kid: KID.idpSignature, use: 'sig', x5c: [sig.certificate.toString('base64')] };
}

export function encryptionJwk(ctx: IdpContext): Record<string, unknown> {
  return { ...bp256PublicKeyToJwk(ctx.keys.idpEncryption.publicKey), kid: KID.idpEncryption, use: 'enc' };
}

export function jwks(ctx: IdpContext): HttpResponse {
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE },
    body: JSON.stringify({ keys: [signatureJwk(ctx), encryptionJwk(ctx)] }),
  };
}
