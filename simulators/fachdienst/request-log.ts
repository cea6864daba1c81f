/**
 * Harness-only request log of the Fachdienst: which client system called which operation, so a
 * scenario (or a vendor testing a real PVS/AVS/FdV) can check that a client system uses exactly the
 * interfaces of its table in gemSysL_eRp (A_18542 TAB_SYSLERP_023, A_18547 TAB_SYSLERP_024,
 * A_18533 TAB_SYSLERP_022). Not part of the Fachdienst's TI interface.
 *
 * One entry per inner request the router saw: operation name as registered by the route ("Task.$create",
 * "Communication.search", …; undefined when no route matched), inner status, X-erp-user, User-Agent,
 * the caller's identity from the verified access token (professionOID, idNummer, client_id, issuer),
 * the names of the query parameters and whether an AccessCode came along — never values (AccessCodes,
 * Secrets and tokens stay out of the log). Ring buffer; the time is the Fachdienst's SimClock.
 *
 * Admin API: GET /__admin/requests[?since=<ISO time>&after=<id>&operation=<name>&idNummer=<id>&limit=<n>] →
 * {requests: [...]} oldest first; DELETE /__admin/requests empties the log.
 */
import { HttpError, json, type Route } from '../lib/http';
import { ADMIN_PATH } from '../lib/ports';
import type { InnerHttpRequest } from '../lib/http-message';
import type { DispatchResult } from './fhir-router';

export const REQUEST_LOG_CAPACITY = 2000;

export interface RequestLogEntry {
  /** Sequence number (1, 2, …; survives clearing). */
  id: number;
  /** ISO time of the Fachdienst's clock when the request was answered. */
  time: string;
  method: string;
  path: string;
  /** Route operation ("Task.$create", …); absent when no route matched (405). */
  operation?: string;
  /** Inner HTTP status. */
  status: number;
  /** Outer X-erp-user header ("l" / "v"); absent in plain mode. */
  erpUser?: string;
  /** User-Agent of the client system (outer header in VAU mode, else the request's). */
  userAgent?: string;
  /** From the verified access token (absent when the token did not verify). */
  professionOID?: string;
  idNummer?: string;
  clientId?: string;
  issuer?: string;
  /** Names of the query parameters (never their values). */
  queryParams: string[];
  /** An AccessCode came as X-AccessCode header or `ac` parameter. */
  accessCode: boolean;
}

/** What the transport knows about the outer request. */
export interface TransportInfo {
  erpUser?: string;
  userAgent?: string;
}

export interface RequestLogFilter {
  /** Entries at or after this time (ISO 8601, the Fachdienst's clock). */
  since?: string;
  /** Entries with an id greater than this (a mark taken before a use case; independent of the clock). */
  after?: number;
  operation?: string;
  idNummer?: string;
  /** The last n matching entries. */
  limit?: number;
}

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private nextId = 1;

  constructor(
    private readonly now: () => Date,
    private readonly capacity = REQUEST_LOG_CAPACITY,
  ) {}

  /** Records one dispatched request (called by the router after every dispatch). */
  record(req: InnerHttpRequest, result: DispatchResult, transport: TransportInfo = {}): RequestLogEntry {
    const claims = result.auth?.claims as Record<string, unknown> | undefined;
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
    const userAgent = transport.userAgent ?? req.headers['user-agent'];
    const entry: RequestLogEntry = {
      id: this.nextId++,
      time: this.now().toISOString(),
      method: req.method,
      path: req.path,
      ...(result.operation ? { operation: result.operation } : {}),
      status: result.response.status,
      ...(transport.erpUser ? { erpUser: transport.erpUser } : {}),
      ...(userAgent ? { userAgent } : {}),
      ...(result.auth ? { professionOID: result.auth.professionOID } : {}),
      ...(result.auth?.idNumber ? { idNummer: result.auth.idNumber } : {}),
      ...(result.auth?.clientId ? { clientId: result.auth.clientId } : {}),
      ...(str(claims?.iss) ? { issuer: str(claims?.iss) } : {}),
      queryParams: [...new Set(req.query.keys())],
      accessCode: req.headers['x-accesscode'] !== undefined || req.query.has('ac'),
    };
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return entry;
  }

  list(filter: RequestLogFilter = {}): RequestLogEntry[] {
    const since = filter.since === undefined ? undefined : Date.parse(filter.since);
    if (since !== undefined && Number.isNaN(since)) throw new RangeError(`since is no ISO 8601 time: ${filter.since}`);
    const out = this.entries.filter(
      (e) =>
        (since === undefined || Date.parse(e.time) >= since) &&
        (filter.after === undefined || e.id > filter.after) &&
        (filter.operation === undefined || e.operation === filter.operation) &&
        (filter.idNummer === undefined || e.idNummer === filter.idNummer),
    );
    return filter.limit === undefined ? out : out.slice(Math.max(0, out.length - filter.limit));
  }

  clear(): void {
    this.entries = [];
  }
}

/** GET and DELETE /__admin/requests. */
export function requestLogAdminRoutes(log: RequestLog): Route[] {
  return [
    {
      method: 'GET',
      path: `${ADMIN_PATH}/requests`,
      handler: (rc) => {
        const q = rc.url.searchParams;
        const integer = (name: string, min: number): number | undefined => {
          const text = q.get(name);
          if (text === null) return undefined;
          const n = Number(text);
          if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) throw new HttpError(400, `${name} must be an integer >= ${min}`);
          return n;
        };
        const limit = integer('limit', 1);
        const after = integer('after', 0);
        const filter: RequestLogFilter = {
          ...(q.get('since') !== null ? { since: q.get('since')! } : {}),
          ...(q.get('operation') !== null ? { operation: q.get('operation')! } : {}),
          ...(q.get('idNummer') !== null ? { idNummer: q.get('idNummer')! } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(after !== undefined ? { after } : {}),
        };
        try {
          return json(200, { requests: log.list(filter) });
        } catch (e) {
          if (e instanceof RangeError) throw new HttpError(400, e.message);
          throw e;
        }
      },
    },
    {
      method: 'DELETE',
      path: `${ADMIN_PATH}/requests`,
      handler: () => {
        log.clear();
        return json(200, { cleared: true });
      },
    },
  ];
}
