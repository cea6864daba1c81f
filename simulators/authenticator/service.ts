/**
 * The Authentisierungsmodul's local interface "Authentisierung anfordern" (A_18940, the
 * "Systemdienst"): a loopback HTTP service a client application on the same device calls instead of
 * opening authenticator://. Modelled on the gematik Authenticator's local server
 * (gematik/app-Authenticator src/main/services/local-http-server.ts): the request is held open while
 * the module runs the flow, and the answer is a 302 to the client's registered redirect_uri carrying
 * code and state (or the IDP's error), never the code as readable data.
 *
 *   GET /authenticate?challenge_path=<URL-encoded authorization URL>   → 302 Location: redirect_uri?code&state
 *   GET /authorize?challenge_path=…                                     same (the reference app's path name)
 *   GET /status                                                         → {status:"ready", busy}
 *
 * Errors: missing/invalid challenge_path 400; an IDP error the IDP sent by redirect → 302 to that
 * redirect (the client gets error/gematik_code at its redirect_uri); an IDP error without redirect →
 * 400 JSON with the IDP's fields; a failed check of the module → 502 JSON; a second request while one
 * flow runs → 409 (one card, one user); a Host other than this loopback address → 403 (DNS rebinding).
 */
import { HttpError, json, startHttpServer, type HttpResponse, type RequestContext } from '../lib/http';
import { IdpError, IdpProtocolError } from '../lib/idp-client';
import type { Authenticator } from './authenticator';
import { InvocationError, stripAuthenticatorHints } from './invocation';

export interface AuthenticatorServiceOptions {
  authenticator: Authenticator;
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** 0 (default) for an ephemeral port. */
  port?: number;
  log?: (message: string) => void;
}

export interface RunningAuthenticatorService {
  url: string;
  port: number;
  /** The URL a client opens for an authorization request URL. */
  authenticateUrl(authorizationUrl: string): string;
  stop(): Promise<void>;
}

export async function startAuthenticatorService(opts: AuthenticatorServiceOptions): Promise<RunningAuthenticatorService> {
  const host = opts.host ?? '127.0.0.1';
  let port = 0;
  let busy = false;

  const checkHost = (ctx: RequestContext) => {
    const h = (ctx.req.headers.host ?? '').toLowerCase();
    const allowed = [`${host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`];
    if (!allowed.includes(h)) throw new HttpError(403, `Host ${JSON.stringify(h)} is not this loopback service`, 'forbidden_host');
  };

  const authenticate = async (ctx: RequestContext): Promise<HttpResponse> => {
    checkHost(ctx);
    const challengePath = ctx.url.searchParams.get('challenge_path');
    if (!challengePath) throw new HttpError(400, 'challenge_path is required', 'missing_challenge_path');
    try {
      stripAuthenticatorHints(challengePath);
    } catch (e) {
      throw new HttpError(400, (e as InvocationError).message, 'invalid_challenge_path');
    }
    if (busy) throw new HttpError(409, 'another authentication is in progress on this device', 'flow_in_progress');
    busy = true;
    try {
      const result = await opts.authenticator.authenticate(challengePath);
      return { status: 302, headers: { location: result.location, 'cache-control': 'no-store' } };
    } catch (e) {
      if (e instanceof IdpError) {
        if (e.location) return { status: 302, headers: { location: e.location, 'cache-control': 'no-store' } };
        return json(400, {
          error: e.error,
          gematik_code: e.gematikCode,
          gematik_error_text: e.gematikErrorText,
          gematik_uuid: e.gematikUuid,
          error_description: e.errorDescription,
        });
      }
      if (e instanceof IdpProtocolError) return json(502, { error: 'authenticator_failed', code: e.code, message: e.message });
      if (e instanceof InvocationError) throw new HttpError(400, e.message, 'invalid_challenge_path');
      return json(502, { error: 'authenticator_failed', code: 'CARD_OR_INTERNAL', message: (e as Error)?.message ?? String(e) });
    } finally {
      busy = false;
    }
  };

  const server = await startHttpServer({
    host,
    port: opts.port ?? 0,
    name: 'authenticator',
    log: opts.log,
    routes: [
      { method: 'GET', path: '/authenticate', handler: authenticate, errorFormat: 'json' },
      { method: 'GET', path: '/authorize', handler: authenticate, errorFormat: 'json' },
      {
        method: 'GET',
        path: '/status',
        errorFormat: 'json',
        handler: (ctx) => {
          checkHost(ctx);
          return json(200, { status: 'ready', busy, issuer: opts.authenticator.issuer });
        },
      },
    ],
  });
  port = server.port;
  return {
    url: server.url,
    port: server.port,
    authenticateUrl: (authorizationUrl) => `${server.url}/authenticate?challenge_path=${encodeURIComponent(authorizationUrl)}`,
    stop: () => server.close(),
  };
}
