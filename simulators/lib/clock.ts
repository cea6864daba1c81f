/**
 * The harness's controllable clock (DESIGN §3 "Clock"): every lifetime, expiry and deletion
 * period of a simulator reads `clock.now()`, never `Date.now()` directly, so scenarios can move
 * time forward ("Wenn 6 Minuten vergangen sind …") through the admin API instead of waiting.
 *
 * The clock is system time plus an offset. The offset only grows through `advance()` or is set
 * absolutely with `set()`; `reset()` returns to system time.
 *
 * Admin API (harness-only, `@simulator-only` scenarios), mounted by each simulator under /__admin:
 *   GET  /__admin/clock                → { now, offsetMs }
 *   POST /__admin/clock { advanceMs }  → moves forward (advanceMs ≥ 0)
 *   POST /__admin/clock { set }        → sets the clock to an ISO time (may go backward)
 *   POST /__admin/clock { reset:true } → system time again
 *
 * `onChange(cb)` registers a listener that runs synchronously after every advance/set/reset (e.g. the
 * Fachdienst's retention job, so a scenario that moves the clock sees expired data gone at once).
 */
import { HttpError, json, type Route } from './http';
import { ADMIN_PATH } from './ports';

/** Called after the clock moved (advance, set or reset) with the new simulated time. */
export type ClockListener = (now: Date) => void;

export class SimClock {
  private offsetMs = 0;
  private readonly listeners = new Set<ClockListener>();

  constructor(private readonly system: () => number = Date.now) {}

  /** Current simulated time in ms since the epoch. */
  nowMs(): number {
    return this.system() + this.offsetMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  /** Current simulated time in whole seconds since the epoch (JWT NumericDate). */
  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  get offset(): number {
    return this.offsetMs;
  }

  advance(ms: number): Date {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`the clock only moves forward: advance(${ms})`);
    this.offsetMs += ms;
    return this.changed();
  }

  set(at: Date): Date {
    if (Number.isNaN(at.getTime())) throw new RangeError('clock.set: invalid date');
    this.offsetMs = at.getTime() - this.system();
    return this.changed();
  }

  reset(): Date {
    this.offsetMs = 0;
    return this.changed();
  }

  /**
   * Registers a listener for clock changes (advance/set/reset; not the passing of real time). Returns
   * the function that removes it. Listeners run synchronously in registration order; when one throws,
   * the others still run and the first error is rethrown afterwards (the clock has moved regardless).
   */
  onChange(listener: ClockListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private changed(): Date {
    const now = this.now();
    let failure: unknown;
    let failed = false;
    for (const l of [...this.listeners]) {
      try {
        l(now);
      } catch (e) {
        if (!failed) failure = e;
        failed = true;
      }
    }
    if (failed) throw failure;
    return now;
  }

  /** A `() => Date` view, for modules that take a plain clock function. */
  readonly asFunction = (): Date => this.now();
}

/** GET/POST /__admin/clock for a simulator's admin API. */
export function clockAdminRoutes(clock: SimClock): Route[] {
  const state = () => json(200, { now: clock.now().toISOString(), offsetMs: clock.offset });
  return [
    { method: 'GET', path: `${ADMIN_PATH}/clock`, handler: state },
    {
      method: 'POST',
      path: `${ADMIN_PATH}/clock`,
      handler: (ctx) => {
        let body: { advanceMs?: unknown; set?: unknown; reset?: unknown };
        try {
          body = ctx.body.length ? (JSON.parse(ctx.body.toString('utf8')) as typeof body) : {};
        } catch {
          throw new HttpError(400, 'body is not JSON');
        }
        if (body.reset === true) clock.reset();
        else if (typeof body.advanceMs === 'number') {
          if (!Number.isFinite(body.advanceMs) || body.advanceMs < 0) throw new HttpError(400, 'advanceMs must be a number ≥ 0');
          clock.advance(body.advanceMs);
        } else if (typeof body.set === 'string') {
          const at = new Date(body.set);
          if (Number.isNaN(at.getTime())) throw new HttpError(400, `set: not an ISO time: ${body.set}`);
          clock.set(at);
        } else throw new HttpError(400, 'expected { advanceMs } or { set } or { reset: true }');
        return state();
      },
    },
  ];
}
