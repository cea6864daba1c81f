/**
 * The `fachdienst` service: the simulated E-Rezept-Fachdienst. HTTPS with a C.FD.TLS-S certificate
 * of the simulated PKI; the FHIR interface inside the VAU (vau-endpoint.ts) — or, only when the
 * environment says `fachdienst.vau: false`, directly over HTTPS (logged loudly); access tokens of
 * the environment's IDP (access-token.ts); the roles of production (roles.ts); SQLite storage
 * (store.ts); a SimClock for every time the Fachdienst reads.
 *
 * Endpoints: GET /VAUCertificate, GET /VAUCertificateOCSPResponse, POST /VAU/{0|pseudonym},
 * GET /metadata (plain, no authentication), admin API under /__admin (health, clock, tasks/:id status,
 * faults: harness-only fault injection, faults.ts; requests: the request log, request-log.ts).
 * The FHIR operations come from route modules (routes/index.ts); see docs/fachdienst.md.
 */
import * as path from 'node:path';
import { SimClock, clockAdminRoutes } from '../lib/clock';
import { DEFAULT_FACHDIENST_MAX_BODY, erpAudienceOf, type FachdienstConfig } from '../lib/config';
import { json, text, type Route } from '../lib/http';
import { startHttpServer } from '../lib/http';
import { ADMIN_PATH } from '../lib/ports';
import type { RunningService, ServiceStartOptions, ServiceStarter } from '../lib/service';
import { loadOrIssueTlsMaterial, type TlsMaterial } from '../lib/tls-material';
import { loadOrCreatePki, type Pki } from '../pki/hierarchy';
import { AccessTokenVerifier } from './access-token';
import { FhirRouter, negotiateFormat, type FhirRouteModule } from './fhir-router';
import { capabilityStatement } from './routes/metadata';
import { DEFAULT_ROUTE_MODULES } from './routes';
import { FachdienstFaults } from './faults';
import { RetentionJob } from './retention';
import { RequestLog, requestLogAdminRoutes } from './request-log';
import { FachdienstStore } from './store';
import { UserPseudonyms } from './user-pseudonym';
import { loadOrIssueVauIdentity, type VauIdentity } from './vau-identity';
import { plainFhirRoute, vauRoutes } from './vau-endpoint';

const PRODUCT_VERSION = `ti-harness-fachdienst ${(require('../../package.json') as { version: string }).version}`;

export interface FachdienstServiceOptions extends ServiceStartOptions {
  /** An already loaded PKI (default: <env.dataDir>/pki, the PKI service's data). */
  pki?: Pki;
  /** The Fachdienst's clock (default: a new SimClock, exposed at /__admin/clock). */
  clock?: SimClock;
  /** Overrides of the environment's fachdienst section. */
  config?: Partial<FachdienstConfig>;
  /** Base URL of the IDP whose tokens are accepted (default: env.services.idp.url). */
  idpUrl?: string;
  /** Base URL of the PKI service (default: env.services.pki.url). */
  pkiUrl?: string;
  /** Route modules (default: routes/index.ts DEFAULT_ROUTE_MODULES). */
  routeModules?: readonly FhirRouteModule[];
  /** Real-time period of the retention job (default 60 s; 0: only on clock changes and POST /__admin/retention/run). */
  retentionIntervalMs?: number;
}

export interface RunningFachdienst extends RunningService {
  clock: SimClock;
  config: FachdienstConfig;
  store: FachdienstStore;
  router: FhirRouter;
  /** Retention job (retention.ts): runs on every SimClock change, periodically, and on demand. */
  retention: RetentionJob;
  /** Harness-only fault injection (faults.ts; admin API /__admin/faults). */
  faults: FachdienstFaults;
  /** Harness-only request log (request-log.ts; admin API /__admin/requests). */
  requestLog: RequestLog;
  vau: VauIdentity;
  tls: TlsMaterial;
  /** Trust anchor of the TLS and VAU certificates (the PKI root), PEM. */
  trustRootPem: string;
}

export async function startFachdienst(opts: FachdienstServiceOptions): Promise<RunningFachdienst> {
  const env = opts.env;
  const base: FachdienstConfig = env.fachdienst ?? {
    audience: erpAudienceOf(env.idp),
    vau: true,
    checkRevocation: true,
    maxBodyBytes: DEFAULT_FACHDIENST_MAX_BODY,
  };
  const config: FachdienstConfig = { ...base, ...(opts.config ?? {}) };
  const pkiUrl = (opts.pkiUrl ?? env.services.pki.url).replace(/\/+$/, '');
  const idpUrl = (opts.idpUrl ?? env.services.idp.url).replace(/\/+$/, '');
  const pki = opts.pki ?? (await loadOrCreatePki(path.join(env.dataDir, 'pki'), { ocspUrl: `${pkiUrl}/ocsp` }));
  const clock = opts.clock ?? new SimClock();
  const log = opts.log;
  const tls = loadOrIssueTlsMaterial(pki, path.join(opts.dataDir, 'tls'), [opts.host, env.host], { profile: 'C.FD.TLS-S', commonName: 'erp.ti-harness.sim' });
  const vau = loadOrIssueVauIdentity(pki, path.join(opts.dataDir, 'vau'), log);
  const pseudonyms = UserPseudonyms.loadOrCreate(path.join(opts.dataDir, 'vau'));
  const store = FachdienstStore.open(path.join(opts.dataDir, 'fachdienst.sqlite'), { clock, log });
  const verifier = new AccessTokenVerifier({
    idpUrl,
    trust: { rootPem: pki.rootCertificatePem, caPems: Object.values(pki.cas).map((c) => c.certificatePem) },
    clock,
    audience: config.audience,
    checkRevocation: config.checkRevocation,
    log,
  });

  const context = { clock, store, baseUrl: '', log, pki, dataDir: opts.dataDir };
  // Harness-only fault injection (faults.ts): handlers run in a scope naming their operation.
  const faults = new FachdienstFaults({ now: () => clock.now(), log, operations: () => router.routes().map((r) => r.operation) });
  store.beforeCommit = () => faults.beforeCommit();
  const requestLog = new RequestLog(() => clock.now());
  const router = new FhirRouter({ verifier, context, onDispatched: (req, result, transport) => requestLog.record(req, result, transport) }).use(...(opts.routeModules ?? DEFAULT_ROUTE_MODULES).map((m) => faults.instrument(m)));
  const startedAt = new Date().toISOString();
  const retention = new RetentionJob({ store, clock, intervalMs: opts.retentionIntervalMs, log });

  const routes: Route[] = [
    ...(config.vau ? vauRoutes({ identity: vau, router, pseudonyms, clock, maxBodyBytes: config.maxBodyBytes, log }).map((r) => (r.method === 'POST' ? faults.wrapOuterRoute(r) : r)) : []),
    {
      method: 'GET',
      path: '/metadata',
      handler: (rc) => {
        const headers: Record<string, string> = {};
        if (typeof rc.req.headers.accept === 'string') headers.accept = rc.req.headers.accept;
        const cs = capabilityStatement(router.routes(), clock.now(), negotiateFormat(rc.url.searchParams, headers, undefined));
        return { status: 200, headers: { 'content-type': cs.contentType }, body: cs.body };
      },
    },
    {
      method: 'GET',
      path: `${ADMIN_PATH}/health`,
      handler: () =>
        json(200, {
          status: 'UP',
          productVersion: PRODUCT_VERSION,
          startedAt,
          vau: config.vau,
          checkRevocation: config.checkRevocation,
          audience: config.audience,
          idp: idpUrl,
          schemaVersion: store.schemaVersion(),
          now: clock.now().toISOString(),
        }),
    },
    {
      // Harness-only (@simulator-only scenarios): the stored status of one Task, e.g. to show that an
      // unsigned prescription never left draft (A_18613). Not part of the Fachdienst's TI interface.
      method: 'GET',
      path: `${ADMIN_PATH}/tasks/:id`,
      handler: (rc) => {
        const t = store.getTask(rc.params.id);
        if (!t) return json(404, { error: `no task ${rc.params.id}` });
        // What is stored for the task, without the data itself (harness-only; A_18820 scenarios).
        const binaries = store.binariesOfTask(t.id);
        const kinds: Record<string, number> = {};
        for (const b of binaries) kinds[b.kind] = (kinds[b.kind] ?? 0) + 1;
        return json(200, {
          id: t.id,
          flowType: t.flowType,
          status: t.status,
          lastStatusChange: t.lastStatusChange,
          stored: { kvnr: !!t.kvnr, accessCode: !!t.accessCode, secret: !!t.secret, owner: !!t.owner, binaries: kinds, auditEvents: store.auditEventCountOfTask(t.id) },
        });
      },
    },
    ...clockAdminRoutes(clock),
    // Harness-only: run the retention job now (by the SimClock); answers what was deleted (docs/fachdienst-retention.md).
    { method: 'POST', path: `${ADMIN_PATH}/retention/run`, handler: () => json(200, { now: clock.now().toISOString(), deleted: retention.runNow() }) },
    ...faults.adminRoutes(),
    // Harness-only: which client system called which operation (request-log.ts; A_18533/A_18542/A_18547 scenarios).
    ...requestLogAdminRoutes(requestLog),
    { method: 'GET', path: '/', handler: () => text(200, `ti-harness simulated E-Rezept-Fachdienst: ${config.vau ? 'FHIR over VAU at POST /VAU/{0|Userpseudonym}' : 'PLAIN HTTPS (no VAU)'}`) },
    ...(config.vau ? [] : [faults.wrapOuterRoute(plainFhirRoute({ router, maxBodyBytes: config.maxBodyBytes, log }))]),
  ];
  let server;
  try {
    server = await startHttpServer({ host: opts.host, port: opts.port, routes, tls: tls.options, log, name: 'fachdienst', maxBodyBytes: config.maxBodyBytes });
  } catch (e) {
    retention.stop();
    store.close();
    throw e;
  }
  context.baseUrl = server.url;
  if (!config.vau) {
    log('!!! WARNING: fachdienst.vau is false: the FHIR interface is served as PLAIN HTTPS WITHOUT the VAU transport.');
    log('!!! This mode is for diagnosis and load tests only; real client systems must use POST /VAU/… (docs/fachdienst.md).');
  }
  void verifier.warmUp();
  log(`listening on ${server.url} (${config.vau ? 'VAU' : 'PLAIN, no VAU'}, IDP ${idpUrl}, audience ${config.audience}, revocation check ${config.checkRevocation ? 'on' : 'off'})`);
  return {
    name: 'fachdienst',
    url: server.url,
    endpoints: {
      ...(config.vau ? { 'VAU certificate': `${server.url}/VAUCertificate`, VAU: `${server.url}/VAU/0` } : { 'FHIR (plain, no VAU)': server.url }),
      metadata: `${server.url}/metadata`,
      admin: `${server.url}${ADMIN_PATH}`,
      'TLS trust': `${pkiUrl}/certs/root.pem`,
    },
    clock,
    config,
    store,
    router,
    retention,
    faults,
    requestLog,
    vau,
    tls,
    trustRootPem: tls.rootPem,
    async stop() {
      retention.stop();
      await server.close();
      store.close();
    },
  };
}

export const start: ServiceStarter = (opts) => startFachdienst(opts);
