/**
 * Ending and checking what the IDP issued:
 *   POST end_session_endpoint   ssotoken and/or token (access token JWS) → the session ends, every
 *                               token issued from it is revoked (A_18858)
 *   POST revocation_endpoint    RFC 7009: token (access/ID token JWS or its jti) → revoked (A_18857)
 *   POST introspection_endpoint RFC 7662: token (access token JWS) → {active, …claims}; inactive when
 *                               expired by the simulated clock, revoked, logged out or not signed here
 * These endpoints have no gematik error codes: errors are RFC 6749-shaped {error, error_description}.
 */
import type { HttpResponse, RequestContext } from '../lib/http';
import { PARAM, TOKEN_TYPE, type IntrospectionResponse } from '../lib/idp-protocol';
import { formParams, jsonNoStore, type IdpContext } from './context';
import { oauthError } from './errors';
import type { Claims } from './jwt';

/** Claims of an access or ID token signed by this IDP, or undefined. */
function ownToken(ctx: IdpContext, jws: string, typ?: string): Claims | undefined {
  try {
    const claims = ctx.jwt.verify(jws, typ);
    return typeof claims.jti === 'string' ? claims : undefined;
  } catch {
    return undefined;
  }
}

function sessionOfSsoToken(ctx: IdpContext, ssoToken: string): string | undefined {
  try {
    const c = ctx.jwt.verify(ctx.jwt.openDir(ssoToken, ctx.keys.secrets.sso).njwt);
    return c.token_type === TOKEN_TYPE.sso && typeof c.sid === 'string' ? c.sid : undefined;
  } catch {
    return undefined;
  }
}

export function endSession(ctx: IdpContext, rc: RequestContext): HttpResponse {
  const form = formParams(rc.body);
  const ssoToken = form.get(PARAM.ssoToken);
  const token = form.get(PARAM.token);
  if (!ssoToken && !token) return oauthError(400, 'invalid_request', 'ssotoken or token (access token) required');
  const sids = new Set<string>();
  if (ssoToken) {
    const sid = sessionOfSsoToken(ctx, ssoToken);
    if (!sid) return oauthError(400, 'invalid_request', 'ssotoken is not an SSO token of this IDP');
    sids.add(sid);
  }
  if (token) {
    const claims = ownToken(ctx, token);
    const sid = claims ? ctx.sessions.sessionOfToken(claims.jti as string) : undefined;
    if (!sid) return oauthError(400, 'invalid_request', 'token is not an access or ID token this IDP issued');
    sids.add(sid);
  }
  let revoked = 0;
  for (const sid of sids) revoked += ctx.sessions.end(sid);
  ctx.log(`end_session: ${sids.size} session(s) ended, ${revoked} token(s) revoked`);
  return jsonNoStore(200, {});
}

export function revocation(ctx: IdpContext, rc: RequestContext): HttpResponse {
  const form = formParams(rc.body);
  const token = form.get(PARAM.token);
  if (!token) return oauthError(400, 'invalid_request', 'token required');
  if (token.includes('.')) {
    const claims = ownToken(ctx, token);
    // RFC 7009 §2.2: an invalid or foreign token is answered with 200 as well.
    if (claims) ctx.sessions.revoke(claims.jti as string, typeof claims.exp === 'number' ? claims.exp : ctx.clock.nowSeconds());
  } else if (ctx.sessions.knowsToken(token)) {
    ctx.sessions.revoke(token, ctx.clock.nowSeconds() + 24 * 3600);
  }
  return jsonNoStore(200, {});
}

export function introspection(ctx: IdpContext, rc: RequestContext): HttpResponse {
  const form = formParams(rc.body);
  const token = form.get(PARAM.token);
  if (!token) return oauthError(400, 'invalid_request', 'token required');
  const inactive: IntrospectionResponse = { active: false };
  const claims = ownToken(ctx, token, 'at+JWT');
  if (!claims) return jsonNoStore(200, inactive);
  const now = ctx.clock.nowSeconds();
  if (typeof claims.exp !== 'number' || now >= claims.exp) return jsonNoStore(200, inactive);
  if (typeof claims.iat === 'number' && claims.iat > now + 60) return jsonNoStore(200, inactive);
  const jti = claims.jti as string;
  if (ctx.sessions.isRevoked(jti)) return jsonNoStore(200, inactive);
  const sid = ctx.sessions.sessionOfToken(jti);
  if (sid && ctx.sessions.get(sid)?.ended) return jsonNoStore(200, inactive);
  const active: IntrospectionResponse = { ...claims, active: true, token_type: 'Bearer' };
  return jsonNoStore(200, active);
}
