/**
 * Harness-internal builder for tests and benchmarks (not part of the simulated Konnektor itself):
 * a "signature stack" of PKI service, cards service with a custom card catalog (persona cards,
 * optionally wrapped, e.g. to count VERIFY/PSO commands) behind a private pcscd, and a Konnektor
 * made of SoapRouter + CardAccess + plain HTTP server (no TLS) serving the signature services.
 *
 * Used by test/unit/konnektor/signature-service.test.ts, test/unit/konnektor/auth-signature-service.test.ts
 * and bench/konnektor.bench.ts. For the full `startKonnektor` service see test/unit/konnektor/helpers.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { personaCatalog } from '../../../cards/index';
import { planLayout } from '../../../cards/pcscd/layout';
import { catalogFrom, startCardsService, type RunningCardsService } from '../../../cards/service';
import type { VirtualCard } from '../../../cards/vpcd/types';
import { resolveEnvironment, type Environment } from '../../lib/config';
import { startHttpServer, type HttpServerHandle } from '../../lib/http';
import { freePort } from '../../lib/net-probe';
import { loadOrCreatePki } from '../../pki/hierarchy';
import { startPkiService, type RunningPkiService } from '../../pki/service';
import { CallLog } from '../admin';
import { registerAuthSignatureService } from '../auth-signature-service';
import { CardAccess } from '../card-access';
import { InformationModel, type KonnektorContext } from '../context';
import { registerSignatureServices, type SignatureServiceOptions, type SignatureServiceState } from '../signature-service';
import { SoapRouter } from '../soap-router';

export interface SignatureStackOptions {
  /** Environment name; the config source is reported as `<tmp>/<name>.yaml`. */
  name: string;
  /** Prefix of the temporary data directory below os.tmpdir() (removed by stop()). */
  tmpPrefix: string;
  /** Base of the vpcd port range (called after the three service ports are taken). */
  vpcdPort: () => Promise<number>;
  /** Reader slots of the private pcscd (default 4). */
  slots?: number;
  /** Persona cards in the cards service's catalog. */
  personas: string[];
  /** Personas inserted into slots 0, 1, ... in this order; start() waits until that many cards are identified. */
  insert: string[];
  /** Wraps each persona card as the catalog creates it (e.g. to count commands). */
  wrapCard?: (name: string, card: VirtualCard) => VirtualCard;
  /** Options of the SignatureService (7.5); false: do not register it (default: registered with defaults). */
  signature?: SignatureServiceOptions | false;
  /** Register the AuthSignatureService too (default false). */
  authSignature?: boolean;
  /** Log of the Konnektor context (default: quiet; the services are always quiet). */
  log?: (message: string) => void;
}

export interface SignatureStack {
  tmp: string;
  env: Environment;
  pkiService: RunningPkiService;
  cards: RunningCardsService;
  access: CardAccess;
  server: HttpServerHandle;
  /** http://127.0.0.1:<port> of the Konnektor. */
  url: string;
  k: KonnektorContext;
  /** The SignatureService's state (undefined when `signature: false`). */
  state: SignatureServiceState | undefined;
  /** Stops server, card access, cards service, PKI service, then removes the temporary directory. */
  stop(): Promise<void>;
}

export async function startSignatureStack(opts: SignatureStackOptions): Promise<SignatureStack> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), opts.tmpPrefix));
  const slots = opts.slots ?? 4;
  const quiet = () => undefined;
  let pkiService: RunningPkiService | undefined;
  let cards: RunningCardsService | undefined;
  let access: CardAccess | undefined;
  let server: HttpServerHandle | undefined;
  const stop = async () => {
    await server?.close().catch(() => undefined);
    await access?.close().catch(() => undefined);
    await cards?.stop().catch(() => undefined);
    await pkiService?.stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const [pkiPort, cardsPort, konPort] = [await freePort(), await freePort(), await freePort()];
    const vpcdPort = await opts.vpcdPort();
    const env = resolveEnvironment(
      {
        name: opts.name,
        dataDir: tmp,
        services: { pki: { port: pkiPort }, cards: { port: cardsPort }, konnektor: { port: konPort } },
        cards: { slots, vpcdPort, insert: [] },
        konnektor: { tls: false },
      } as never,
      path.join(tmp, `${opts.name}.yaml`),
    );
    pkiService = await startPkiService({ host: '127.0.0.1', port: pkiPort, dataDir: path.join(tmp, 'pki'), env, log: quiet });
    const personas = personaCatalog({ pkiDir: path.join(tmp, 'pki'), cacheDir: path.join(tmp, 'cards') });
    const wrap = opts.wrapCard ?? ((_name: string, card: VirtualCard) => card);
    const entries = new Map<string, { description: string; create: () => VirtualCard }>();
    for (const name of opts.personas) entries.set(name, { description: name, create: () => wrap(name, personas.create(name)) });
    cards = await startCardsService({ host: '127.0.0.1', port: cardsPort, dataDir: path.join(tmp, 'cards'), env, log: quiet, catalog: catalogFrom(entries) });
    for (const [i, name] of opts.insert.entries()) await cards.insert(name, i);

    const pki = await loadOrCreatePki(path.join(tmp, 'pki'));
    let ctx: KonnektorContext | undefined;
    const router = new SoapRouter(() => ctx as KonnektorContext);
    const state = opts.signature === false ? undefined : registerSignatureServices(router, opts.signature ?? {});
    if (opts.authSignature) registerAuthSignatureService(router);
    const cardAccess = await CardAccess.open({ socket: cards.socketPath, readers: planLayout(slots, vpcdPort).slots.map((s) => s.readerName), terminals: env.konnektor.cardTerminals, log: quiet });
    access = cardAccess;
    server = await startHttpServer({ host: '127.0.0.1', port: konPort, routes: router.routes(env.konnektor.maxBodyBytes), name: 'konnektor', log: quiet });
    const url = `http://127.0.0.1:${konPort}`;
    ctx = { env, config: env.konnektor, model: new InformationModel(env.konnektor), cards: cardAccess, pki, pkiUrl: pkiService.url, url, clock: () => new Date(), log: opts.log ?? quiet, calls: new CallLog() };
    const deadline = Date.now() + 20_000;
    while (cardAccess.list().length < opts.insert.length) {
      if (Date.now() > deadline) throw new Error('cards not identified through PC/SC');
      await new Promise((r) => setTimeout(r, 50));
      await cardAccess.settled();
    }
    return { tmp, env, pkiService, cards, access: cardAccess, server, url, k: ctx, state, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * A card that behaves like `card` except that every APDU goes through `transmit` (which gets the
 * command and the wrapped card's own transmit), e.g. to count commands for `wrapCard`.
 */
export function interceptTransmit(card: VirtualCard, transmit: (apdu: Buffer, next: (apdu: Buffer) => Buffer) => Buffer): VirtualCard {
  return {
    get atr() {
      return card.atr;
    },
    powerOn: () => card.powerOn(),
    powerOff: () => card.powerOff(),
    reset: () => card.reset(),
    transmit: (apdu: Buffer) => transmit(apdu, (a) => card.transmit(a)),
  };
}
