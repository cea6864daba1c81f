/**
 * Harness-only fault injection of the simulated Fachdienst (@simulator-only scenarios of
 * gemSysL_eRp A_18936, A_18824, A_18825, A_18826): a fault is armed for the next N calls of one named
 * operation ("Task.$activate", "Task.$accept", … — the `operation` names of the route modules) and
 * disarms itself once it has fired N times.
 *
 *   failInTransaction   the handler's outermost database transaction throws after its writes and
 *                       before COMMIT (hook FachdienstStore.beforeCommit): everything it wrote is
 *                       rolled back and the client gets an inner 500 with an OperationOutcome
 *                       (FAULT_TEXT). Counts calls that reach a commit.
 *   dropResponse        the handler runs (and commits) normally, then the outer answer is lost: the
 *                       connection is reset, or the outer VAU request is answered with 500/502/504
 *                       (`as`) — the client never sees the inner answer. Counts calls whose handler ran.
 *                       (503 is refused: it tells a client the request was not processed, which a
 *                       response lost after commit is not.)
 *
 * How the operation is known: `instrument()` wraps every route module so each handler runs inside an
 * AsyncLocalStorage scope naming its operation; `wrapOuterRoute()` opens that scope around the outer
 * (VAU or plain) HTTP route so it can drop the answer afterwards. Nothing here changes a route module.
 *
 * Admin API (service.ts mounts adminRoutes()):
 *   GET    /__admin/faults   {armed: [...], fired: [...last 50 firings]}
 *   POST   /__admin/faults   {kind: "failInTransaction"|"dropResponse", operation, count?: 1..100, as?: "reset"|500|502|504}
 *                            arms (replaces an armed fault of the same kind and operation); {clear: true} disarms all
 *   DELETE /__admin/faults   disarms all
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { HttpError, json, type HttpResponse, type RequestContext, type Route } from '../lib/http';
import { ADMIN_PATH } from '../lib/ports';
import type { FhirHandler, FhirRoute, FhirRouteModule, FhirRouter } from './fhir-router';
import { FhirError } from './outcome';

export const FAULT_KINDS = ['failInTransaction', 'dropResponse'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** How a dropped answer reaches the client: a reset connection or an outer 5xx without inner answer. */
export type DropMode = 'reset' | 500 | 502 | 504;
export const DROP_MODES: readonly DropMode[] = ['reset', 500, 502, 504];

/** Inner OperationOutcome text of an injected transaction failure (ours: production answers a fixed "Internal server error."). */
export const FAULT_TEXT = 'Processing failed because of a system error; nothing was stored. Please repeat the request.';

export interface FaultSpec {
  kind: FaultKind;
  operation: string;
  /** How many calls the fault affects (default 1). */
  count?: number;
  /** dropResponse only (default "reset"). */
  as?: DropMode;
}

export interface ArmedFault {
  kind: FaultKind;
  operation: string;
  remaining: number;
  fired: number;
  as?: DropMode;
}

export interface FiredFault {
  kind: FaultKind;
  operation: string;
  at: string;
  as?: DropMode;
}

/** Per outer request: the operation its handler ran, and whether its answer is to be dropped. */
interface RequestScope {
  operation?: string;
  failed?: boolean;
  drop?: DropMode;
}

const MAX_COUNT = 100;
const HISTORY = 50;

export class FaultError extends Error {
  override name = 'FaultError';
}

export class FachdienstFaults {
  private readonly armedFaults = new Map<string, ArmedFault>();
  private readonly history: FiredFault[] = [];
  private readonly scope = new AsyncLocalStorage<RequestScope>();

  constructor(
    private readonly opts: {
      now?: () => Date;
      log?: (message: string) => void;
      /** Names of the operations that exist (for validation); default: any. */
      operations?: () => readonly string[];
    } = {},
  ) {}

  arm(spec: FaultSpec): ArmedFault {
    if (!FAULT_KINDS.includes(spec.kind)) throw new FaultError(`kind must be one of ${FAULT_KINDS.join(', ')}`);
    if (typeof spec.operation !== 'string' || !spec.operation) throw new FaultError('operation is required (e.g. "Task.$activate")');
    const known = this.opts.operations?.();
    if (known && !known.includes(spec.operation)) throw new FaultError(`unknown operation "${spec.operation}" (known: ${known.join(', ')})`);
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) throw new FaultError(`count must be an integer 1..${MAX_COUNT}`);
    if (spec.as !== undefined && spec.kind !== 'dropResponse') throw new FaultError('"as" applies to dropResponse only');
    const as = spec.kind === 'dropResponse' ? (spec.as ?? 'reset') : undefined;
    if (as !== undefined && !DROP_MODES.includes(as)) throw new FaultError(`as must be one of ${DROP_MODES.map((m) => JSON.stringify(m)).join(', ')}`);
    const f: ArmedFault = { kind: spec.kind, operation: spec.operation, remaining: count, fired: 0, ...(as !== undefined ? { as } : {}) };
    this.armedFaults.set(key(f.kind, f.operation), f);
    this.opts.log?.(`faults: ${f.kind} armed for the next ${count} call(s) of ${f.operation}${as !== undefined ? ` (${as})` : ''}`);
    return { ...f };
  }

  clear(): number {
    const n = this.armedFaults.size;
    this.armedFaults.clear();
    return n;
  }

  armed(): ArmedFault[] {
    return [...this.armedFaults.values()].map((f) => ({ ...f }));
  }

  fired(): FiredFault[] {
    return this.history.map((f) => ({ ...f }));
  }

  /** A route module whose handlers run inside a scope naming their operation. */
  instrument(module: FhirRouteModule): FhirRouteModule {
    return (router: FhirRouter) => {
      const shim: FhirRouter = new Proxy(router, {
        get: (target, prop, receiver) => {
          if (prop === 'register') {
            return (...routes: FhirRoute[]) => {
              target.register(...routes.map((r) => ({ ...r, handler: this.wrapHandler(r.operation, r.handler) })));
              return shim;
            };
          }
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      module(shim);
    };
  }

  private wrapHandler(operation: string, handler: FhirHandler): FhirHandler {
    return (req, ctx) => {
      const s = this.scope.getStore();
      if (s) {
        s.operation = operation;
        return handler(req, ctx);
      }
      return this.scope.run({ operation }, () => handler(req, ctx));
    };
  }

  /**
   * FachdienstStore.beforeCommit: inside the outermost transaction, after its writes. Throws the
   * injected 500 (the transaction rolls back) when failInTransaction is armed for the running
   * operation; once per call.
   */
  beforeCommit(): void {
    const s = this.scope.getStore();
    if (!s?.operation || s.failed) return;
    if (!this.take('failInTransaction', s.operation)) return;
    s.failed = true;
    throw new FhirError(500, FAULT_TEXT, { diagnostics: `harness fault injection: failInTransaction ${s.operation}` });
  }

  /** The outer route (POST /VAU/… or plain FHIR) with the dropResponse fault applied after its handler. */
  wrapOuterRoute(route: Route): Route {
    return {
      ...route,
      handler: (rc) =>
        this.scope.run({}, async () => {
          const s = this.scope.getStore() as RequestScope;
          const result = await route.handler(rc);
          if (s.operation && this.take('dropResponse', s.operation, (f) => (s.drop = f.as ?? 'reset'))) return this.drop(rc, s.drop as DropMode, s.operation);
          return result;
        }),
    };
  }

  private drop(rc: RequestContext, mode: DropMode, operation: string): HttpResponse | undefined {
    if (mode === 'reset') {
      rc.req.socket.destroy();
      return undefined;
    }
    return json(mode, { status: mode, error: 'response lost', message: `harness fault injection: dropResponse ${operation} (the operation was processed)` }, { connection: 'close' });
  }

  /** Consumes one firing of an armed fault; true when it fires. */
  private take(kind: FaultKind, operation: string, onFire?: (f: ArmedFault) => void): boolean {
    const k = key(kind, operation);
    const f = this.armedFaults.get(k);
    if (!f) return false;
    f.remaining--;
    f.fired++;
    if (f.remaining <= 0) this.armedFaults.delete(k);
    onFire?.(f);
    this.history.push({ kind, operation, at: (this.opts.now?.() ?? new Date()).toISOString(), ...(f.as !== undefined ? { as: f.as } : {}) });
    if (this.history.length > HISTORY) this.history.shift();
    this.opts.log?.(`faults: ${kind} fired for ${operation}${f.as !== undefined ? ` (${f.as})` : ''}; ${f.remaining} left`);
    return true;
  }

  /** GET/POST/DELETE /__admin/faults. */
  adminRoutes(): Route[] {
    const path = `${ADMIN_PATH}/faults`;
    const view = () => ({ armed: this.armed(), fired: this.fired() });
    return [
      { method: 'GET', path, handler: () => json(200, view()) },
      {
        method: 'POST',
        path,
        maxBodyBytes: 16 * 1024,
        handler: (rc) => {
          const body = rc.json<Record<string, unknown>>();
          if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'expected a JSON object');
          if (body.clear === true) {
            this.clear();
            return json(200, view());
          }
          const unknown = Object.keys(body).filter((k) => !['kind', 'operation', 'count', 'as'].includes(k));
          if (unknown.length) throw new HttpError(400, `unknown field(s) ${unknown.join(', ')}`);
          try {
            const f = this.arm(body as unknown as FaultSpec);
            return json(201, { armed: f });
          } catch (e) {
            if (e instanceof FaultError) throw new HttpError(400, e.message);
            throw e;
          }
        },
      },
      {
        method: 'DELETE',
        path,
        handler: () => {
          this.clear();
          return json(200, view());
        },
      },
    ];
  }
}

function key(kind: FaultKind, operation: string): string {
  return `${kind} ${operation}`;
}
