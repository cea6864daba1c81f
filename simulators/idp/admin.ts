/**
 * Harness-only admin API of the IDP (JSON, under /__admin; @simulator-only scenarios):
 *
 *   GET    /__admin/health                   status, profile, consent mode, counts (no personal data)
 *   GET    /__admin/clock, POST /__admin/clock   the IDP's simulated clock (simulators/lib/clock.ts)
 *   GET    /__admin/clients                  registered clients (secrets masked)
 *   POST   /__admin/clients                  register/replace {client_id, redirect_uris, profile native|web, client_secret?, sso?} (A_18810)
 *   DELETE /__admin/clients/:id
 *   GET    /__admin/scopes                   service scopes
 *   POST   /__admin/scopes                   register/replace {scope, audience, claims, description?}
 *   DELETE /__admin/scopes/:scope
 *   GET    /__admin/consents                 {count}
 *   DELETE /__admin/consents[?idNummer=…]    forget all consents, or those of one person ("first login" again)
 *   GET    /__admin/faults                   {ocspUnreachable, acr?} (acr only while injected)
 *   POST   /__admin/faults {ocspUnreachable?: boolean, acr?: string|null}   fault injection: OCSP unreachable
 *                                            (error 2021); acr of the access tokens issued from now on
 *                                            (e.g. "gematik-ehealth-loa-substantial"; null = back to
 *                                            gematik-ehealth-loa-high): otherwise valid, signed and
 *                                            encrypted tokens with a lower level (A_18923 scenarios)
 */
import { clockAdminRoutes } from '../lib/clock';
import { ConfigError, type IdpClientConfig } from '../lib/config';
import { HttpError, json, type Route } from '../lib/http';
import { ADMIN_PATH } from '../lib/ports';
import { ACR_HIGH } from '../lib/idp-protocol';
import type { IdpContext } from './context';

/** The injected faults: OCSP unreachable, and the acr of issued access tokens (absent: ACR_HIGH, no fault). */
function faultsView(ctx: IdpContext): { ocspUnreachable: boolean; acr?: string } {
  return { ocspUnreachable: ctx.trust.ocspUnreachable, ...(ctx.accessTokenAcr !== undefined ? { acr: ctx.accessTokenAcr } : {}) };
}

function masked(c: IdpClientConfig): Record<string, unknown> {
  return { ...c, ...(c.client_secret ? { client_secret: '***' } : {}) };
}

function registration<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError) throw new HttpError(400, e.message, 'invalid_registration');
    throw e;
  }
}

export function idpAdminRoutes(ctx: IdpContext, info: () => Record<string, unknown>): Route[] {
  const base = ADMIN_PATH;
  return [
    {
      method: 'GET',
      path: `${base}/health`,
      handler: () =>
        json(200, {
          status: 'ok',
          service: 'idp',
          issuer: ctx.issuer,
          profile: ctx.limits.name,
          consent: ctx.consentMode,
          clients: ctx.registry.clients().length,
          scopes: ctx.registry.scopeNames(),
          sessions: ctx.sessions.counts,
          consents: ctx.consents.size,
          faults: faultsView(ctx),
          ...info(),
        }),
    },
    ...clockAdminRoutes(ctx.clock),
    { method: 'GET', path: `${base}/clients`, handler: () => json(200, ctx.registry.clients().map(masked)) },
    {
      method: 'POST',
      path: `${base}/clients`,
      maxBodyBytes: 64 * 1024,
      handler: (rc) => {
        const c = registration(() => ctx.registry.registerClient(rc.json()));
        ctx.log(`admin: client ${c.client_id} registered (${c.profile})`);
        return json(201, masked(c));
      },
    },
    {
      method: 'DELETE',
      path: `${base}/clients/:id`,
      handler: (rc) => {
        if (!ctx.registry.removeClient(rc.params.id)) throw new HttpError(404, `no client ${rc.params.id}`, 'unknown_client');
        return json(200, { removed: rc.params.id });
      },
    },
    { method: 'GET', path: `${base}/scopes`, handler: () => json(200, ctx.registry.scopes()) },
    {
      method: 'POST',
      path: `${base}/scopes`,
      maxBodyBytes: 64 * 1024,
      handler: (rc) => json(201, registration(() => ctx.registry.registerScope(rc.json()))),
    },
    {
      method: 'DELETE',
      path: `${base}/scopes/:scope`,
      handler: (rc) => {
        if (!registration(() => ctx.registry.removeScope(rc.params.scope))) throw new HttpError(404, `no scope ${rc.params.scope}`, 'unknown_scope');
        return json(200, { removed: rc.params.scope });
      },
    },
    { method: 'GET', path: `${base}/consents`, handler: () => json(200, { count: ctx.consents.size }) },
    {
      method: 'DELETE',
      path: `${base}/consents`,
      handler: (rc) => {
        const idNummer = rc.url.searchParams.get('idNummer');
        const removed = idNummer
          ? ctx.consents.forget(
              idNummer,
              ctx.registry.clients().map((c) => c.client_id),
              ctx.registry.scopes().map((s) => s.scope),
            )
          : ctx.consents.clear();
        return json(200, { removed });
      },
    },
    { method: 'GET', path: `${base}/faults`, handler: () => json(200, faultsView(ctx)) },
    {
      method: 'POST',
      path: `${base}/faults`,
      handler: (rc) => {
        const usage = 'expected {"ocspUnreachable"?: true|false, "acr"?: "<acr value>"|null} with at least one of them';
        const body = rc.json<{ ocspUnreachable?: unknown; acr?: unknown }>();
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, usage);
        const keys = Object.keys(body);
        if (!keys.length || keys.some((k) => k !== 'ocspUnreachable' && k !== 'acr')) throw new HttpError(400, usage);
        if ('ocspUnreachable' in body && typeof body.ocspUnreachable !== 'boolean') throw new HttpError(400, usage);
        if ('acr' in body && body.acr !== null && (typeof body.acr !== 'string' || !body.acr || body.acr.length > 200)) throw new HttpError(400, usage);
        if (typeof body.ocspUnreachable === 'boolean') ctx.trust.ocspUnreachable = body.ocspUnreachable;
        if ('acr' in body) {
          if (body.acr === null) delete ctx.accessTokenAcr;
          else ctx.accessTokenAcr = body.acr as string;
          ctx.log(`admin: access tokens carry acr ${ctx.accessTokenAcr ?? `${ACR_HIGH} (default)`}`);
        }
        return json(200, faultsView(ctx));
      },
    },
  ];
}
