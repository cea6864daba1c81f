/**
 * The `cards` service: the virtual card terminal of the simulated TI.
 *
 * On start it runs the harness's own pcscd with vpcd readers (cards/pcscd), inserts
 * the persona cards the environment names (cards.insert, slot 0 first) through the
 * vpcd bridge (cards/vpcd), and serves a harness-only admin API:
 *
 *   GET  /__admin/cards                      slots (reader, persona, ATR, state), personas, PC/SC socket
 *   POST /__admin/cards/insert {persona, slot?}   insert a card (first free slot by default)
 *   POST /__admin/cards/remove {persona} | {slot} take a card out
 *
 * The cards themselves are reached only through PC/SC (PCSCLITE_CSOCK_NAME=<socket>).
 */
import * as path from 'node:path';
import type { Environment } from '../simulators/lib/config';
import { ADMIN_PATH } from '../simulators/lib/ports';
import { HttpError, json, startHttpServer, type Route } from '../simulators/lib/http';
import type { RunningService, ServiceStartOptions, ServiceStarter } from '../simulators/lib/service';
import { loadPersona, personaCatalog } from './index';
import { startPcscd, type PcscdHandle, type PcscdOptions } from './pcscd/daemon';
import { VpcdConnection, VpcdInsertError, type VpcdConnectionState } from './vpcd/connection';
import { StubCard } from './vpcd/stub-card';
import type { VirtualCard } from './vpcd/types';

/** Where the service gets cards from: persona name → a fresh card. */
export interface CardCatalog {
  /** Known persona names, sorted. */
  names(): string[];
  /** One line about the persona (card type, holder). */
  describe(name: string): string;
  /** A new card for the persona; throws for unknown names. */
  create(name: string): VirtualCard;
  /** The canonical name for another spelling (id, file slug), or undefined when unknown. */
  resolve?(name: string): string | undefined;
}

export const STUB_PERSONA = 'stub-egk';

const STUB_ENTRIES = new Map<string, { description: string; create: () => VirtualCard }>([
  [STUB_PERSONA, { description: 'PC/SC test card (answers SELECT of the eGK root application D2760001448000, and ECHO 80EE)', create: () => new StubCard() }],
]);

/**
 * The cards of an environment: the personas of cards/personas (eGK, HBA, SMC-B on the
 * card OS, keys and certificates from the environment's PKI, cached under the cards
 * data directory) plus the PC/SC stub card. Persona files are read once.
 */
export function defaultCatalog(env?: Environment, dataDir?: string): CardCatalog {
  const personas = personaCatalog({
    pkiDir: env ? path.join(env.dataDir, 'pki') : undefined,
    cacheDir: dataDir ?? (env ? path.join(env.dataDir, 'cards') : undefined),
    env: env?.source,
  });
  let cached: { names: string[]; descriptions: Map<string, string> } | undefined;
  const load = () => {
    if (!cached) {
      const names = personas.names();
      cached = { names, descriptions: new Map(names.map((n) => [n, personas.describe(n)])) };
    }
    return cached;
  };
  return {
    names: () => [...STUB_ENTRIES.keys(), ...load().names],
    describe: (name) => STUB_ENTRIES.get(name)?.description ?? load().descriptions.get(name) ?? '',
    create: (name) => {
      const stub = STUB_ENTRIES.get(name);
      if (stub) return stub.create();
      if (!load().descriptions.has(name)) throw new HttpError(404, `unknown persona "${name}" (ti-harness cards list shows them)`, 'unknown_persona');
      return personas.create(name);
    },
    resolve: (name) => {
      if (STUB_ENTRIES.has(name) || load().descriptions.has(name)) return name;
      try {
        const canonical = loadPersona(name).name;
        return load().descriptions.has(canonical) ? canonical : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

export function catalogFrom(entries: Map<string, { description: string; create: () => VirtualCard }>): CardCatalog {
  return {
    names: () => [...entries.keys()].sort(),
    describe: (name) => entries.get(name)?.description ?? '',
    create: (name) => {
      const entry = entries.get(name);
      if (!entry) throw new HttpError(404, `unknown persona "${name}" (known: ${[...entries.keys()].sort().join(', ') || 'none'})`, 'unknown_persona');
      return entry.create();
    },
  };
}

/** The catalog's name for `name`, or undefined when it knows no such persona. */
function canonicalName(catalog: CardCatalog, name: string): string | undefined {
  if (catalog.resolve) return catalog.resolve(name);
  return catalog.names().includes(name) ? name : undefined;
}

export interface SlotView {
  slot: number;
  reader: string;
  vpcdPort: number;
  /** Persona whose card is in the slot, or null. */
  persona: string | null;
  /** ATR of that card (hex), or null. */
  atr: string | null;
  /** removed · inserting · inserted · reconnecting */
  state: VpcdConnectionState;
  apdus: number;
}

export interface CardsServiceOptions extends ServiceStartOptions {
  catalog?: CardCatalog;
  /** Overrides for the pcscd manager (run directory, debug logging, timeouts). */
  pcscd?: Pick<PcscdOptions, 'runDir' | 'debug' | 'keepRunDir' | 'startTimeoutMs' | 'stopTimeoutMs'>;
  /** Time an insertion may take until vpcd polls the card (default 5 s). */
  insertTimeoutMs?: number;
}

export interface RunningCardsService extends RunningService {
  /** PCSCLITE_CSOCK_NAME for PC/SC clients of the virtual cards. */
  socketPath: string;
  pcscd: PcscdHandle;
  slots(): SlotView[];
  insert(persona: string, slot?: number): Promise<SlotView>;
  remove(target: { persona?: string; slot?: number }): Promise<SlotView>;
}

interface Slot {
  slot: number;
  reader: string;
  port: number;
  persona?: string;
  connection?: VpcdConnection;
}

export async function startCardsService(opts: CardsServiceOptions): Promise<RunningCardsService> {
  const log = opts.log;
  const catalog = opts.catalog ?? defaultCatalog(opts.env, opts.dataDir);
  const cfg = opts.env.cards;
  const initial: string[] = [];
  for (const name of cfg.insert) {
    const canonical = canonicalName(catalog, name);
    if (!canonical) throw new Error(`cards.insert in ${opts.env.source} names unknown persona "${name}" (known: ${catalog.names().join(', ')})`);
    initial.push(canonical);
  }
  const pcscd = await startPcscd({
    slots: cfg.slots,
    vpcdPort: cfg.vpcdPort,
    log,
    onUnexpectedExit: (d) => log(`the virtual cards are gone: ${d}`),
    ...(opts.pcscd ?? {}),
  });
  const slots: Slot[] = pcscd.layout.slots.map((s) => ({ slot: s.slot, reader: s.readerName, port: s.port }));

  // Insertions and removals one at a time, so two requests never pick the same slot.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  };

  const view = (s: Slot): SlotView => ({
    slot: s.slot,
    reader: s.reader,
    vpcdPort: s.port,
    persona: s.persona ?? null,
    atr: s.connection ? s.connection.card.atr.toString('hex').toUpperCase() : null,
    state: s.connection?.state ?? 'removed',
    apdus: s.connection?.stats.apdus ?? 0,
  });

  const insert = (name: string, slotNo?: number): Promise<SlotView> =>
    serial(async () => {
      const persona = canonicalName(catalog, name);
      if (!persona) throw new HttpError(404, `unknown persona "${name}" (known: ${catalog.names().join(', ') || 'none'})`, 'unknown_persona');
      const holding = slots.find((s) => s.persona === persona);
      if (holding) throw new HttpError(409, `the card of "${persona}" is already in slot ${holding.slot} (${holding.reader})`, 'already_inserted');
      let slot: Slot | undefined;
      if (slotNo === undefined) {
        slot = slots.find((s) => !s.connection);
        if (!slot) throw new HttpError(409, `all ${slots.length} slots hold a card; remove one first`, 'no_free_slot');
      } else {
        slot = slots.find((s) => s.slot === slotNo);
        if (!slot) throw new HttpError(400, `slot must be 0..${slots.length - 1}, got ${slotNo}`, 'bad_slot');
        if (slot.connection) throw new HttpError(409, `slot ${slotNo} already holds the card of "${slot.persona}"`, 'slot_occupied');
      }
      const card = catalog.create(persona);
      const target = slot;
      const connection = new VpcdConnection({
        card,
        port: target.port,
        host: pcscd.vpcdHost,
        insertTimeoutMs: opts.insertTimeoutMs,
        log: (m) => log(`slot ${target.slot}: ${m}`),
      });
      try {
        await connection.insert();
      } catch (e) {
        if (e instanceof VpcdInsertError) throw new HttpError(503, e.message, 'insert_failed');
        throw e;
      }
      target.connection = connection;
      target.persona = persona;
      log(`inserted "${persona}" into slot ${target.slot} (${target.reader})`);
      return view(target);
    });

  const remove = (target: { persona?: string; slot?: number }): Promise<SlotView> =>
    serial(async () => {
      let slot: Slot | undefined;
      if (target.slot !== undefined) {
        slot = slots.find((s) => s.slot === target.slot);
        if (!slot) throw new HttpError(400, `slot must be 0..${slots.length - 1}, got ${target.slot}`, 'bad_slot');
        if (!slot.connection) throw new HttpError(409, `slot ${target.slot} is empty`, 'slot_empty');
      } else if (target.persona !== undefined) {
        const persona = canonicalName(catalog, target.persona) ?? target.persona;
        slot = slots.find((s) => s.persona === persona);
        if (!slot) throw new HttpError(404, `the card of "${target.persona}" is not inserted`, 'not_inserted');
      } else {
        throw new HttpError(400, 'say which card to remove: {"persona": "<name>"} or {"slot": <n>}');
      }
      const connection = slot.connection;
      slot.connection = undefined;
      const persona = slot.persona;
      slot.persona = undefined;
      await connection?.remove();
      log(`removed "${persona}" from slot ${slot.slot}`);
      // the now empty slot, naming the card that left it
      return { ...view(slot), persona: persona ?? null };
    });

  const slotsView = () => slots.map(view);

  const routes: Route[] = [
    {
      method: 'GET',
      path: `${ADMIN_PATH}/cards`,
      handler: () =>
        json(200, {
          socket: pcscd.socketPath,
          pcscd: { pid: pcscd.pid, running: pcscd.running },
          vpcdPort: pcscd.layout.vpcdPort,
          slots: slotsView(),
          personas: catalog.names().map((name) => ({ name, description: catalog.describe(name), slot: slots.find((s) => s.persona === name)?.slot ?? null })),
        }),
    },
    {
      method: 'POST',
      path: `${ADMIN_PATH}/cards/insert`,
      maxBodyBytes: 4096,
      handler: async (ctx) => {
        const body = ctx.json<{ persona?: unknown; slot?: unknown }>();
        if (typeof body !== 'object' || body === null || typeof body.persona !== 'string' || !body.persona) {
          throw new HttpError(400, 'expected {"persona": "<name>", "slot": <n> (optional)}');
        }
        if (body.slot !== undefined && !Number.isInteger(body.slot)) throw new HttpError(400, 'slot must be an integer');
        return json(200, await insert(body.persona, body.slot as number | undefined));
      },
    },
    {
      method: 'POST',
      path: `${ADMIN_PATH}/cards/remove`,
      maxBodyBytes: 4096,
      handler: async (ctx) => {
        const body = ctx.json<{ persona?: unknown; slot?: unknown }>();
        if (typeof body !== 'object' || body === null) throw new HttpError(400, 'expected {"persona": "<name>"} or {"slot": <n>}');
        if (body.slot !== undefined && !Number.isInteger(body.slot)) throw new HttpError(400, 'slot must be an integer');
        if (body.persona !== undefined && (typeof body.persona !== 'string' || !body.persona)) throw new HttpError(400, 'persona must be a non-empty string');
        return json(200, await remove({ persona: body.persona as string | undefined, slot: body.slot as number | undefined }));
      },
    },
  ];

  let server: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  const removeAll = async () => {
    await Promise.all(
      slots.map(async (s) => {
        const c = s.connection;
        s.connection = undefined;
        s.persona = undefined;
        await c?.remove();
      }),
    );
  };
  try {
    server = await startHttpServer({ host: opts.host, port: opts.port, routes, log, name: 'cards' });
    for (const [i, persona] of initial.entries()) await insert(persona, i);
  } catch (e) {
    await removeAll();
    await server?.close();
    await pcscd.stop();
    throw e instanceof HttpError ? new Error(e.message) : e;
  }

  const endpoints: Record<string, string> = {
    admin: `${server.url}${ADMIN_PATH}/cards`,
    'PC/SC socket': pcscd.socketPath,
  };
  for (const s of slotsView()) endpoints[`slot ${s.slot}`] = `${s.reader} · ${s.persona ?? 'empty'} (vpcd :${s.vpcdPort})`;

  let stopping: Promise<void> | undefined;
  const httpServer = server;
  return {
    name: 'cards',
    url: server.url,
    endpoints,
    socketPath: pcscd.socketPath,
    pcscd,
    slots: slotsView,
    insert,
    remove,
    stop() {
      stopping ??= (async () => {
        const errors: string[] = [];
        await serial(removeAll).catch((e) => errors.push(`removing cards: ${(e as Error).message}`));
        await httpServer.close().catch((e) => errors.push(`admin API: ${(e as Error).message}`));
        await pcscd.stop().catch((e) => errors.push(`pcscd: ${(e as Error).message}`));
        if (errors.length) throw new Error(`cards service did not stop cleanly: ${errors.join('; ')}`);
      })();
      return stopping;
    },
  };
}

export const start: ServiceStarter = (opts) => startCardsService(opts);
