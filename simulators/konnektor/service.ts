/**
 * The `konnektor` service: a simulated Konnektor (Anwendungskonnektor) for client systems (PVS,
 * AVS). SOAP 1.1 over TLS with the WSDL-defined services, `GET /connector.sds`, the information
 * model of the environment, and the cards of the `cards` service reached through PC/SC.
 *
 * It finds the cards service's pcscd by the environment (cards.vpcdPort → socket path), so it
 * works in the same process as the cards service (`ti-harness up`) and in another one.
 * Details: docs/konnektor.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pcscSocketPath, planLayout } from '../../cards/pcscd/layout';
import { ADMIN_PATH } from '../lib/ports';
import type { Route } from '../lib/http';
import type { RunningService, ServiceStartOptions, ServiceStarter } from '../lib/service';
import { loadOrCreatePki, type Pki } from '../pki/hierarchy';
import { adminRoutes, CallLog } from './admin';
import { CardAccess, type CardAccessOptions } from './card-access';
import { InformationModel, type KonnektorContext } from './context';
import { sdsRoutes } from './sds';
import { loadOrIssueTlsMaterial, startKonnektorServer, type TlsMaterial } from './server';
import { SoapRouter } from './soap-router';

/** Service modules, each exporting `register(router)`; optional ones are skipped when absent. */
export const SERVICE_MODULES: Array<{ module: string; optional?: boolean }> = [
  { module: './event-service' },
  { module: './card-service' },
  { module: './certificate-service' },
  { module: './signature-service', optional: true },
  { module: './auth-signature-service', optional: true },
];

export interface KonnektorServiceOptions extends ServiceStartOptions {
  /** pcscd socket of the cards service (default: derived from env.cards.vpcdPort). */
  pcscSocket?: string;
  /** An already loaded PKI (default: <env.dataDir>/pki). */
  pki?: Pki;
  clock?: () => Date;
  /** Overrides for the card layer (tests). */
  cardAccess?: Partial<Pick<CardAccessOptions, 'personas' | 'apduTimeoutMs'>>;
  /** Size of the admin call log. */
  callLogSize?: number;
}

export interface RunningKonnektor extends RunningService {
  context: KonnektorContext;
  router: SoapRouter;
  tls?: TlsMaterial;
}

/** Registers the operations of every service module (SERVICE_MODULES) on `router`. */
export function registerServiceModules(router: SoapRouter, log: (m: string) => void = () => undefined): void {
  for (const m of SERVICE_MODULES) {
    const file = path.join(__dirname, m.module);
    if (m.optional && !['.ts', '.js'].some((ext) => fs.existsSync(file + ext))) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(m.module) as { register?: (r: SoapRouter) => void };
    if (typeof mod.register !== 'function') {
      log(`${m.module} exports no register(router); skipped`);
      continue;
    }
    mod.register(router);
  }
}

export async function startKonnektor(opts: KonnektorServiceOptions): Promise<RunningKonnektor> {
  const env = opts.env;
  const config = env.konnektor;
  const log = opts.log;
  const clock = opts.clock ?? (() => new Date());
  const pkiUrl = env.services.pki.url;
  const pki = opts.pki ?? (await loadOrCreatePki(path.join(env.dataDir, 'pki'), { ocspUrl: `${pkiUrl}/ocsp` }));
  const layout = planLayout(env.cards.slots, env.cards.vpcdPort);
  const socket = opts.pcscSocket ?? pcscSocketPath(env.cards.vpcdPort);

  let context: KonnektorContext | undefined;
  const router = new SoapRouter(() => {
    if (!context) throw new Error('the Konnektor is not started yet');
    return context;
  });
  registerServiceModules(router, log);

  const tls = config.tls ? loadOrIssueTlsMaterial(pki, path.join(opts.dataDir, 'tls'), [opts.host, env.host], { clientAuth: config.clientAuth }) : undefined;
  const calls = new CallLog(opts.callLogSize);
  const routes: Route[] = [
    ...router.routes(config.maxBodyBytes),
    ...sdsRoutes(() => ({ baseUrl: (context as KonnektorContext).url, tls: config.tls, clientAuth: config.clientAuth, paths: router.paths(), now: clock() })),
    ...adminRoutes(() => context as KonnektorContext),
  ];

  const cards = await CardAccess.open({
    socket,
    readers: layout.slots.map((s) => s.readerName),
    terminals: config.cardTerminals,
    clock,
    log,
    ...(opts.cardAccess ?? {}),
  });
  let server;
  try {
    server = await startKonnektorServer({ host: opts.host, port: opts.port, routes, tls, maxBodyBytes: config.maxBodyBytes, log });
  } catch (e) {
    await cards.close();
    throw e;
  }
  const url = server.url;
  context = { env, config, model: new InformationModel(config), cards, pki, pkiUrl, url, clock, log, calls };

  const handle = server;
  let stopping: Promise<void> | undefined;
  return {
    name: 'konnektor',
    url,
    endpoints: {
      'connector.sds': `${url}/connector.sds`,
      admin: `${url}${ADMIN_PATH}/calls`,
      'PC/SC socket': socket,
      ...(tls ? { 'TLS trust': `${pkiUrl}/certs/root.pem` } : {}),
    },
    context,
    router,
    tls,
    stop() {
      stopping ??= (async () => {
        await handle.close();
        await cards.close();
      })();
      return stopping;
    },
  };
}

export const start: ServiceStarter = (opts) => startKonnektor(opts);
