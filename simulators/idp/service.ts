/**
 * The `idp` service: a simulated Identity Provider of the TI in gematik's OIDC flavour (discovery
 * document, smartcard challenge-response, consent, SSO, token endpoint, logout, revocation,
 * introspection, metrics), HTTPS only with a C.FD.TLS-S certificate of the simulated PKI.
 *
 * Keys and certificates live in the service's data directory; clients and scopes come from the
 * environment's idp section (and the admin API); the trust store is the TSL of the environment's
 * PKI service and every AUT certificate is checked with that PKI's OCSP responder (A_18819).
 * Protocol, profiles, errors and admin API: docs/idp.md.
 */
import * as path from 'node:path';
import { SimClock } from '../lib/clock';
import { DEFAULT_IDP_CONFIG, type IdpConfig } from '../lib/config';
import { startHttpServer, text, type Handler, type HttpResponse, type RequestContext, type Route } from '../lib/http';
import { ADMIN_PATH } from '../lib/ports';
import type { RunningService, ServiceStartOptions, ServiceStarter } from '../lib/service';
import { loadOrIssueTlsMaterial, type TlsMaterial } from '../lib/tls-material';
import { loadOrCreatePki, type Pki } from '../pki/hierarchy';
import { idpAdminRoutes } from './admin';
import { authorizationRequest, consent, signedChallenge, ssoAuthorization } from './authorization';
import { ClientRegistry } from './clients';
import { ConsentStore } from './consents';
import { IDP_PATHS, type IdpContext } from './context';
import { encryptionJwk, jwks, signatureJwk, signedDiscovery } from './discovery';
import { IdpError, renderIdpError } from './errors';
import { IdpJwt } from './jwt';
import { loadOrCreateIdpKeys, type IdpKeys } from './keys';
import { IdpMetrics, METRICS_CONTENT_TYPE, PendingTimers, type IdpOperation } from './metrics';
import { PkiTrust } from './pki-trust';
import { IDP_PROFILES } from './profiles';
import { AuthSessionStore } from './sessions';
import { endSession, introspection, revocation } from './session-endpoints';
import { SingleUseRegistry } from './single-use';
import { tokenRequest } from './token-endpoint';

/** Product version of the simulated IDP (the harness version), shown by /__admin/health (A_19016). */
const PRODUCT_VERSION = `ti-harness-idp ${(require('../../package.json') as { version: string }).version}`;

export interface IdpServiceOptions extends ServiceStartOptions {
  /** An already loaded PKI (default: <env.dataDir>/pki, the PKI service's data). */
  pki?: Pki;
  /** The IDP's clock (default: a new SimClock, exposed at /__admin/clock). */
  clock?: SimClock;
  /** Overrides of the environment's idp section. */
  config?: Partial<IdpConfig>;
  /** Base URL of the PKI service for TSL and OCSP (default: env.services.pki.url). */
  pkiUrl?: string;
}

export interface RunningIdp extends RunningService {
  /** The IDP's simulated clock: every lifetime reads it. */
  clock: SimClock;
  /** Issuer / base URL (https://host:port). */
  issuer: string;
  discoveryUrl: string;
  /** Trust anchor of the TLS certificate and of the IDP's signing certificates (the PKI root), PEM. */
  trustRootPem: string;
  tls: TlsMaterial;
  config: IdpConfig;
  /** Public keys as JWK (what discovery publishes). */
  jwk: { sig: Record<string, unknown>; enc: Record<string, unknown> };
  /** Internals for tests (keys, stores). Not for scenario steps. */
  context: IdpContext;
}

const MAX_FORM_BYTES = 64 * 1024;

/** Runs a handler, renders IdpErrors in the gematik model and records the operation's metrics. */
function endpoint(ctx: IdpContext, operation: IdpOperation, handler: (rc: RequestContext) => HttpResponse | Promise<HttpResponse>): Handler {
  return async (rc) => {
    const t0 = performance.now();
    let outcome: 'success' | 'error' = 'success';
    try {
      const r = await handler(rc);
      const loc = r.headers?.location;
      if (r.status >= 400 || (typeof loc === 'string' && /[?&]error=/.test(loc))) outcome = 'error';
      return r;
    } catch (e) {
      outcome = 'error';
      const err = e instanceof IdpError ? e : new IdpError('generalError', 'internal error');
      if (!(e instanceof IdpError)) ctx.log(`${operation}: internal error: ${(e as Error)?.stack ?? String(e)}`);
      else ctx.log(`${operation}: ${err.code} ${err.spec.error}${err.description ? ` (${err.description})` : ''}`);
      return renderIdpError(err, ctx.clock.nowSeconds());
    } finally {
      ctx.metrics.request(operation, outcome, (performance.now() - t0) / 1000);
    }
  };
}

function routes(ctx: IdpContext, info: () => Record<string, unknown>): Route[] {
  const json = 'json' as const;
  const r = (method: string, p: string, operation: IdpOperation, h: (rc: RequestContext) => HttpResponse | Promise<HttpResponse>): Route => ({
    method,
    path: p,
    handler: endpoint(ctx, operation, h),
    maxBodyBytes: MAX_FORM_BYTES,
    errorFormat: json,
  });
  const jwkAnswer = (jwk: Record<string, unknown>): HttpResponse => ({
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(jwk),
  });
  return [
    r('GET', IDP_PATHS.discovery, 'discovery', () => signedDiscovery(ctx)),
    r('GET', IDP_PATHS.jwks, 'jwks', () => jwks(ctx)),
    r('GET', IDP_PATHS.pukIdpSig, 'jwks', () => jwkAnswer(signatureJwk(ctx))),
    r('GET', IDP_PATHS.pukIdpEnc, 'jwks', () => jwkAnswer(encryptionJwk(ctx))),
    r('GET', IDP_PATHS.authorization, 'authorization_request', (rc) => authorizationRequest(ctx, rc)),
    r('POST', IDP_PATHS.authorization, 'signed_challenge', (rc) => signedChallenge(ctx, rc)),
    r('POST', IDP_PATHS.consent, 'consent', (rc) => consent(ctx, rc)),
    r('POST', IDP_PATHS.sso, 'sso', (rc) => ssoAuthorization(ctx, rc)),
    r('POST', IDP_PATHS.token, 'token', (rc) => tokenRequest(ctx, rc)),
    r('POST', IDP_PATHS.endSession, 'end_session', (rc) => endSession(ctx, rc)),
    r('POST', IDP_PATHS.revocation, 'revocation', (rc) => revocation(ctx, rc)),
    r('POST', IDP_PATHS.introspection, 'introspection', (rc) => introspection(ctx, rc)),
    { method: 'GET', path: IDP_PATHS.metrics, handler: () => ({ status: 200, headers: { 'content-type': METRICS_CONTENT_TYPE }, body: ctx.metrics.render() }) },
    { method: 'GET', path: '/', handler: () => text(200, `ti-harness simulated IDP (${ctx.limits.name} profile): discovery at ${IDP_PATHS.discovery}`) },
    ...idpAdminRoutes(ctx, info),
  ];
}

export async function startIdp(opts: IdpServiceOptions): Promise<RunningIdp> {
  const env = opts.env;
  const config: IdpConfig = { ...(env.idp ?? DEFAULT_IDP_CONFIG), ...(opts.config ?? {}) };
  const limits = IDP_PROFILES[config.profile];
  if (!limits) throw new Error(`unknown IDP profile ${String(config.profile)}`);
  const pkiUrl = (opts.pkiUrl ?? env.services.pki.url).replace(/\/+$/, '');
  const pki = opts.pki ?? (await loadOrCreatePki(path.join(env.dataDir, 'pki'), { ocspUrl: `${pkiUrl}/ocsp` }));
  const clock = opts.clock ?? new SimClock();
  const keys: IdpKeys = loadOrCreateIdpKeys(pki, path.join(opts.dataDir, 'keys'), opts.log);
  const tls = loadOrIssueTlsMaterial(pki, path.join(opts.dataDir, 'tls'), [opts.host, env.host], { profile: 'C.FD.TLS-S', commonName: 'idp.ti-harness.sim' });
  const trust = new PkiTrust({ pkiUrl, anchor: pki.rootCertificate, clock, ocspTimeoutMs: config.ocspTimeoutMs, log: opts.log });

  const startedAt = new Date().toISOString();
  const ctx: IdpContext = {
    issuer: '', // set once the server listens
    limits,
    consentMode: config.consent,
    clock,
    keys,
    jwt: new IdpJwt(keys.idpSignature.privateKey, keys.idpSignature.publicKey),
    registry: new ClientRegistry(config),
    trust,
    sessions: new AuthSessionStore(clock),
    consents: new ConsentStore(keys.secrets.pairwiseSalt),
    singleUse: new SingleUseRegistry(clock),
    metrics: new IdpMetrics(),
    challengeTimers: new PendingTimers(),
    consentTimers: new PendingTimers(),
    log: opts.log,
  };
  const server = await startHttpServer({
    host: opts.host,
    port: opts.port,
    routes: routes(ctx, () => ({ productVersion: PRODUCT_VERSION, startedAt, pki: pkiUrl })),
    tls: tls.options,
    log: opts.log,
    name: 'idp',
  });
  const issuer = server.url;
  ctx.issuer = issuer;
  // The TSL is loaded in the background; a login before it arrives waits for it.
  trust.refresh().catch((e) => opts.log(`TSL not loaded yet from ${trust.tslUrl}: ${(e as Error).message} (retried on the first login)`));
  opts.log(`listening on ${issuer} (${limits.name} profile, consent ${config.consent}, PKI ${pkiUrl})`);
  return {
    name: 'idp',
    url: issuer,
    issuer,
    discoveryUrl: `${issuer}${IDP_PATHS.discovery}`,
    endpoints: {
      discovery: `${issuer}${IDP_PATHS.discovery}`,
      metrics: `${issuer}${IDP_PATHS.metrics}`,
      admin: `${issuer}${ADMIN_PATH}`,
      'TLS trust': `${pkiUrl}/certs/root.pem`,
    },
    clock,
    trustRootPem: tls.rootPem,
    tls,
    config,
    jwk: { sig: signatureJwk(ctx), enc: encryptionJwk(ctx) },
    context: ctx,
    stop: () => server.close(),
  };
}

export const start: ServiceStarter = (opts) => startIdp(opts);
