/**
 * The token endpoint (A_19011, OAuth 2.0 token endpoint): authorization code + key_verifier →
 * access token and ID token, each JWE dir/A256GCM with the client's token_key.
 *
 * Checks: grant_type authorization_code only (A_18815), registered client_id (A_18811/A_18838), the
 * web profile's client_secret (A_18803), the code (this IDP's, unexpired by the simulated clock,
 * single use — a replay is refused, where gematik's reference IDP accepts it), the code's binding
 * to client_id and redirect_uri (A_18812), the key_verifier (decryptable with puk_idp_enc, token_key,
 * PKCE code_verifier matching the code_challenge).
 */
import * as crypto from 'node:crypto';
import type { HttpResponse, RequestContext } from '../lib/http';
import { ACR_HIGH, AMR_SMARTCARD, IDENTITY_CLAIMS, PARAM, TOKEN_TYPE, type TokenResponse } from '../lib/idp-protocol';
import { decodeJweHeader, decryptJweEcdhEs, payloadJson } from '../lib/jose';
import type { IdpClientConfig } from '../lib/config';
import { formParams, jsonNoStore, type IdpContext } from './context';
import { IdpError } from './errors';
import { randomId, type Claims } from './jwt';
import type { UserType } from './metrics';

const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

function timingSafeEqualText(a: string, b: string): boolean {
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y);
}

/** client_secret_post or client_secret_basic for web clients; public (native) clients send none. */
function authenticateClient(client: IdpClientConfig, formSecret: string | undefined, authorization: string | undefined): void {
  if (client.profile !== 'web') return;
  const unauthorized = (why: string) =>
    new IdpError('tokenClientIdInvalid', why, { status: 401, headers: { 'www-authenticate': 'Basic realm="ti-harness-idp", charset="UTF-8"' } });
  let secret = formSecret;
  if (authorization?.startsWith('Basic ')) {
    const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
    const sep = decoded.indexOf(':');
    if (sep < 0) throw unauthorized('malformed Basic credentials');
    let id: string;
    try {
      id = decodeURIComponent(decoded.slice(0, sep));
      secret = decodeURIComponent(decoded.slice(sep + 1));
    } catch {
      throw unauthorized('malformed Basic credentials');
    }
    if (id !== client.client_id) throw unauthorized('the Basic credentials name another client');
  }
  if (!secret) throw unauthorized('a web client must authenticate with its client_secret');
  if (!timingSafeEqualText(secret, client.client_secret ?? '')) throw unauthorized('client_secret is wrong');
}

interface KeyVerifier {
  tokenKey: Buffer;
  codeVerifier: string;
}

function readKeyVerifier(ctx: IdpContext, jwe: string): KeyVerifier {
  let payload: Record<string, unknown>;
  try {
    const header = decodeJweHeader(jwe);
    if (header.alg !== 'ECDH-ES') throw new Error('alg must be ECDH-ES');
    payload = payloadJson(decryptJweEcdhEs(jwe, ctx.keys.idpEncryption.privateKey).plaintext);
  } catch (e) {
    throw new IdpError('keyVerifierNotReadable', `key_verifier cannot be decrypted with puk_idp_enc (${(e as Error).message})`);
  }
  const tk = payload.token_key;
  if (tk === undefined || tk === null || tk === '') throw new IdpError('tokenKeyMissing');
  if (typeof tk !== 'string' || !/^[A-Za-z0-9_-]+={0,2}$/.test(tk)) throw new IdpError('tokenKeyNotReadable', 'token_key must be base64url');
  const tokenKey = Buffer.from(tk.replace(/=+$/, ''), 'base64url');
  if (tokenKey.length !== 32) throw new IdpError('tokenKeyNotReadable', `token_key must be 32 bytes (AES-256), got ${tokenKey.length}`);
  const cv = payload.code_verifier;
  if (cv === undefined || cv === null || cv === '') throw new IdpError('codeVerifierMissing');
  if (typeof cv !== 'string' || !CODE_VERIFIER.test(cv)) throw new IdpError('codeVerifierInvalid', 'code_verifier must be 43..128 characters of A-Z a-z 0-9 - . _ ~');
  return { tokenKey, codeVerifier: cv };
}

/** Decrypts and verifies an authorization code of this IDP. */
function readCode(ctx: IdpContext, code: string): Claims {
  let opened;
  try {
    opened = ctx.jwt.openDir(code, ctx.keys.secrets.code);
  } catch (e) {
    throw new IdpError('authorizationCodeNotReadable', `the code cannot be decrypted (${(e as Error).message})`);
  }
  if (typeof opened.header.exp !== 'number') throw new IdpError('tokenExpMissing', 'the code JWE has no exp header');
  let claims: Claims;
  try {
    claims = ctx.jwt.verify(opened.njwt);
  } catch {
    throw new IdpError('authorizationCodeSignatureInvalid');
  }
  if (claims.token_type !== TOKEN_TYPE.code) throw new IdpError('authorizationCodeNotReadable', 'not an authorization code');
  if (typeof claims.exp !== 'number') throw new IdpError('tokenExpMissing');
  if (ctx.clock.nowSeconds() >= claims.exp) throw new IdpError('authorizationCodeExpired');
  for (const k of ['jti', 'sid', 'sub', 'client_id', 'redirect_uri', 'scope', 'code_challenge']) {
    if (typeof claims[k] !== 'string' || !claims[k]) throw new IdpError('missingClaimsInAuthenticationCode', `the code has no ${k}`);
  }
  if (typeof claims.auth_time !== 'number') throw new IdpError('missingClaimsInAuthenticationCode', 'the code has no auth_time');
  return claims;
}

export function tokenRequest(ctx: IdpContext, rc: RequestContext): HttpResponse {
  const t0 = performance.now();
  const form = formParams(rc.body);
  if (form.duplicates.length) throw new IdpError('tokenRequestParameterDuplicate', `parameter(s) ${form.duplicates.join(', ')} given more than once`);
  const grantType = form.get(PARAM.grantType);
  if (!grantType) throw new IdpError('grantTypeMissing');
  if (grantType !== 'authorization_code') throw new IdpError('grantTypeNotSupported', 'only grant_type=authorization_code is supported (A_18815)');
  const clientId = form.get(PARAM.clientId);
  if (!clientId) throw new IdpError('clientIdMissing');
  const client = ctx.registry.client(clientId);
  if (!client) throw new IdpError('tokenClientIdInvalid', 'client_id is not registered');
  authenticateClient(client, form.get(PARAM.clientSecret), rc.req.headers.authorization);
  const code = form.get(PARAM.code);
  if (!code) throw new IdpError('authorizationCodeMissing');
  const redirectUri = form.get(PARAM.redirectUri);
  if (!redirectUri) throw new IdpError('redirectUriMissing');
  const kv = form.get(PARAM.keyVerifier);
  if (!kv) throw new IdpError('keyVerifierMissing');

  const c = readCode(ctx, code);
  if (c.client_id !== clientId) throw new IdpError('tokenClientIdInvalid', 'the code was issued to another client');
  if (c.redirect_uri !== redirectUri) throw new IdpError('redirectUriInvalid', 'redirect_uri differs from the authorization request');
  const { tokenKey, codeVerifier } = readKeyVerifier(ctx, kv);
  if (crypto.createHash('sha256').update(codeVerifier, 'ascii').digest('base64url') !== c.code_challenge) {
    throw new IdpError('codeVerifierAndCodeChallengeIncompatible');
  }
  const session = ctx.sessions.get(c.sid as string);
  if (!session || session.ended) throw new IdpError('authorizationCodeNotReadable', 'the authentication session of this code has ended (logout)');
  if (!ctx.singleUse.consume(c.jti as string, c.exp as number)) throw new IdpError('authorizationCodeNotReadable', 'the code was already redeemed');

  const scope = ctx.registry.scope(String(c.scope).split(' ').find((s) => s !== 'openid') ?? '');
  if (!scope) throw new IdpError('missingClaimsInAuthenticationCode', 'the service scope of the code is no longer registered');
  const now = ctx.clock.nowSeconds();
  const identityClaims = Object.fromEntries(IDENTITY_CLAIMS.filter((k) => k in c && scope.claims.includes(k)).map((k) => [k, c[k]]));
  const common = {
    iss: ctx.issuer,
    sub: c.sub,
    iat: now,
    auth_time: c.auth_time,
    acr: ACR_HIGH,
    amr: [...AMR_SMARTCARD],
    azp: clientId,
  };
  const atExp = now + ctx.limits.lifetimes.accessTokenS;
  const accessJti = randomId();
  const accessJws = ctx.jwt.sign(
    // acr: ACR_HIGH unless the harness injects a lower level (admin.ts faults, A_18923 scenarios)
    { ...common, acr: ctx.accessTokenAcr ?? ACR_HIGH, aud: scope.audience, exp: atExp, jti: accessJti, scope: c.scope, client_id: clientId, ...identityClaims },
    'at+JWT',
  );
  const atHash = crypto.createHash('sha256').update(accessJws, 'ascii').digest().subarray(0, 16).toString('base64url');
  const idExp = now + ctx.limits.lifetimes.idTokenS;
  const idJti = randomId();
  const idJws = ctx.jwt.sign({
    ...common,
    aud: clientId,
    exp: idExp,
    jti: idJti,
    ...(typeof c.nonce === 'string' ? { nonce: c.nonce } : {}),
    at_hash: atHash,
    ...identityClaims,
  });
  ctx.sessions.addToken(session.sid, accessJti, atExp);
  ctx.sessions.addToken(session.sid, idJti, idExp);
  const answer: TokenResponse = {
    access_token: ctx.jwt.sealDir(accessJws, tokenKey, atExp),
    id_token: ctx.jwt.sealDir(idJws, tokenKey, idExp),
    token_type: 'Bearer',
    expires_in: ctx.limits.lifetimes.accessTokenS,
  };
  ctx.metrics.tokenIssued((c.user_type === 'insured' ? 'insured' : 'lei') as UserType, (performance.now() - t0) / 1000);
  return jsonNoStore(200, answer);
}
