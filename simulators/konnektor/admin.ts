/**
 * The Konnektor simulator's harness-only admin API (`/__admin`, used by `@simulator-only` steps):
 *
 *   GET    /__admin/calls[?limit=n&operation=GetCards]   recent SOAP calls, newest last (bounded ring buffer)
 *   DELETE /__admin/calls                                forget them
 *   GET    /__admin/konnektor                           cards, terminals, information model
 *   POST   /__admin/pinpad {iccsn|cardHandle, entries}  PIN entries the simulated PIN pad types next
 *   DELETE /__admin/pinpad                              forget queued PIN entries
 */
import { ADMIN_PATH } from '../lib/ports';
import { HttpError, json, type Route } from '../lib/http';
import type { KonnektorContext } from './context';
import type { CallRecord } from './soap-router';

export const DEFAULT_CALL_LOG_SIZE = 500;

/** Bounded ring buffer of recent calls. */
export class CallLog {
  private readonly records: CallRecord[] = [];
  private next = 1;

  constructor(readonly capacity = DEFAULT_CALL_LOG_SIZE) {}

  add(r: Omit<CallRecord, 'id'>): CallRecord {
    const record = { id: this.next++, ...r };
    this.records.push(record);
    if (this.records.length > this.capacity) this.records.splice(0, this.records.length - this.capacity);
    return record;
  }

  list(filter: { limit?: number; operation?: string; since?: number } = {}): CallRecord[] {
    let out = this.records;
    if (filter.operation) out = out.filter((r) => r.operation === filter.operation);
    if (filter.since !== undefined) out = out.filter((r) => r.id > (filter.since as number));
    if (filter.limit !== undefined) out = out.slice(-filter.limit);
    return [...out];
  }

  clear(): void {
    this.records.length = 0;
  }
}

export function adminRoutes(k: () => KonnektorContext): Route[] {
  return [
    {
      method: 'GET',
      path: `${ADMIN_PATH}/calls`,
      handler: (ctx) => {
        const limitRaw = ctx.url.searchParams.get('limit');
        const sinceRaw = ctx.url.searchParams.get('since');
        const limit = limitRaw === null ? undefined : Number(limitRaw);
        const since = sinceRaw === null ? undefined : Number(sinceRaw);
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new HttpError(400, 'limit must be a positive integer');
        if (since !== undefined && !Number.isInteger(since)) throw new HttpError(400, 'since must be an integer (a call id)');
        const calls = k().calls;
        return json(200, { capacity: calls.capacity, calls: calls.list({ limit, since, operation: ctx.url.searchParams.get('operation') ?? undefined }) });
      },
    },
    {
      method: 'DELETE',
      path: `${ADMIN_PATH}/calls`,
      handler: () => {
        k().calls.clear();
        return json(200, { cleared: true });
      },
    },
    {
      method: 'GET',
      path: `${ADMIN_PATH}/konnektor`,
      handler: async () => {
        const kk = k();
        await kk.cards.settled();
        return json(200, {
          url: kk.url,
          tls: kk.config.tls,
          clientAuth: kk.config.clientAuth,
          pcsc: kk.cards.status(),
          cards: kk.cards.list().map((c) => ({ ...c, insertTime: c.insertTime.toISOString() })),
          informationModel: {
            mandants: kk.config.mandants,
            clientSystems: kk.config.clientSystems,
            workplaces: kk.config.workplaces,
            cardTerminals: kk.config.cardTerminals,
          },
        });
      },
    },
    {
      method: 'POST',
      path: `${ADMIN_PATH}/pinpad`,
      maxBodyBytes: 4096,
      handler: async (ctx) => {
        const body = ctx.json<{ iccsn?: unknown; cardHandle?: unknown; entries?: unknown }>();
        if (typeof body !== 'object' || body === null) throw new HttpError(400, 'expected {"iccsn"|"cardHandle": "…", "entries": ["123456", …]}');
        const entries = body.entries;
        if (!Array.isArray(entries) || entries.some((e) => typeof e !== 'string' || !/^[0-9]{4,12}$/.test(e))) {
          throw new HttpError(400, 'entries must be a list of PINs (4..12 digits)');
        }
        const kk = k();
        await kk.cards.settled();
        let iccsn: string | undefined;
        if (typeof body.iccsn === 'string') iccsn = body.iccsn;
        else if (typeof body.cardHandle === 'string') iccsn = kk.cards.info(body.cardHandle)?.iccsn;
        if (!iccsn) throw new HttpError(404, 'no such card (give the iccsn or the card handle of an inserted card)');
        kk.cards.pinPad.queue(iccsn, entries as string[]);
        return json(200, { iccsn, queued: kk.cards.pinPad.pending(iccsn) });
      },
    },
    {
      method: 'DELETE',
      path: `${ADMIN_PATH}/pinpad`,
      handler: () => {
        k().cards.pinPad.clear();
        return json(200, { cleared: true });
      },
    },
  ];
}
