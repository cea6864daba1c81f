/**
 * How a client application hands an authentication request to the Authentisierungsmodul (A_18940
 * "Authentisierung anfordern"), in the format of the gematik Authenticator app:
 *
 *   authenticator://?challenge_path=<URL-encoded authorization request URL>
 *
 * Sources (public, gematik/app-Authenticator):
 *   - src/constants.ts: CUSTOM_PROTOCOL_NAME = 'authenticator' (the registered URL scheme);
 *   - src/main/services/url-service.ts: parseLauncherArguments() reads everything after
 *     "?challenge_path=" as the challenge path and URL-decodes it (an `authz_path` instead starts a
 *     different, Keycloak-brokered flow, which this module does not offer);
 *   - src/main/services/local-http-server.ts: the newer loopback variant, GET …?challenge_path=… held
 *     open until the flow ends and answered with a 302 to the registered redirect_uri (service.ts);
 *   - relying parties append authenticator-only hints to the challenge path, e.g. `cardType=SMC-B` and
 *     `callback=DIRECT` (seen in public RP code that builds these links). They address the module, not
 *     the IDP, and are removed before the authorization request is sent.
 *
 * Decoding: the reference app decodes while a '%' remains, which would also decode the inner
 * redirect_uri. Here the value is decoded only until it is an absolute http(s) URL (at most 3 rounds),
 * so the parameters inside the authorization URL keep their own encoding.
 */

export const AUTHENTICATOR_SCHEME = 'authenticator';
export const CHALLENGE_PATH_PARAM = 'challenge_path';
/** Parameters of the challenge path meant for the authenticator, not the IDP. */
export const AUTHENTICATOR_HINT_PARAMS = ['callback', 'cardType'] as const;

export class InvocationError extends Error {
  override name = 'InvocationError';
}

export interface AuthenticatorInvocation {
  /** The authorization request URL to send to the IDP (hint parameters removed). */
  challengePath: string;
  /** `callback` hint (e.g. DIRECT, OPEN_TAB), if the caller gave one. */
  callback?: string;
  /** `cardType` hint (SMC-B, HBA, eGK), if the caller gave one. */
  cardType?: string;
}

function decodeToUrl(raw: string): string {
  let s = raw;
  for (let round = 0; round < 3 && !/^https?:\/\//i.test(s); round++) {
    try {
      s = decodeURIComponent(s.replace(/\+/g, '%20'));
    } catch {
      throw new InvocationError(`${CHALLENGE_PATH_PARAM} is not valid percent-encoding`);
    }
  }
  return s;
}

/** Splits the hint parameters off an authorization URL. */
export function stripAuthenticatorHints(authorizationUrl: string): AuthenticatorInvocation {
  let url: URL;
  try {
    url = new URL(authorizationUrl);
  } catch {
    throw new InvocationError(`${CHALLENGE_PATH_PARAM} is not a URL: ${authorizationUrl.slice(0, 200)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvocationError(`${CHALLENGE_PATH_PARAM} must be an http(s) URL, got ${url.protocol}`);
  }
  const out: AuthenticatorInvocation = { challengePath: '' };
  const callback = url.searchParams.get('callback');
  const cardType = url.searchParams.get('cardType');
  for (const p of AUTHENTICATOR_HINT_PARAMS) url.searchParams.delete(p);
  out.challengePath = url.toString();
  if (callback) out.callback = callback;
  if (cardType) out.cardType = cardType;
  return out;
}

/** Parses `authenticator://?challenge_path=…`. */
export function parseAuthenticatorUri(uri: string): AuthenticatorInvocation {
  if (typeof uri !== 'string' || uri.length === 0) throw new InvocationError('empty invocation URI');
  if (uri.length > 16 * 1024) throw new InvocationError('invocation URI longer than 16 KiB');
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  if (!m || m[1].toLowerCase() !== AUTHENTICATOR_SCHEME) {
    throw new InvocationError(`not an ${AUTHENTICATOR_SCHEME}:// URI: ${uri.slice(0, 80)}`);
  }
  const q = uri.indexOf('?');
  const search = q >= 0 ? uri.slice(q + 1) : '';
  const prefix = `${CHALLENGE_PATH_PARAM}=`;
  if (!search.startsWith(prefix)) {
    if (/(^|&)authz_path=/.test(search)) throw new InvocationError('authz_path (brokered flow) is not supported, only challenge_path');
    throw new InvocationError(`invocation URI has no ${CHALLENGE_PATH_PARAM}`);
  }
  const raw = search.slice(prefix.length);
  if (!raw) throw new InvocationError(`${CHALLENGE_PATH_PARAM} is empty`);
  return stripAuthenticatorHints(decodeToUrl(raw));
}

/** The invocation URI a client opens: authenticator://?challenge_path=<encoded URL (with hints)>. */
export function buildAuthenticatorUri(authorizationUrl: string, hints: { callback?: string; cardType?: string } = {}): string {
  const url = new URL(authorizationUrl);
  if (hints.cardType) url.searchParams.set('cardType', hints.cardType);
  if (hints.callback) url.searchParams.set('callback', hints.callback);
  return `${AUTHENTICATOR_SCHEME}://?${CHALLENGE_PATH_PARAM}=${encodeURIComponent(url.toString())}`;
}
