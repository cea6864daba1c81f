/**
 * Retention of the Fachdienst (gemSysL_eRp A_18525 with TAB_SYSLERP_021, A_18788, A_18937): physical
 * deletion of prescriptions (task row, binaries, messages), messages and audit events once their period
 * is over, driven by the Fachdienst's SimClock — on every clock change (POST /__admin/clock) and
 * periodically in real time — and on demand (POST /__admin/retention/run). docs/fachdienst-retention.md.
 *
 * Boundaries ("N Tage nach X"): a record is deleted once now ≥ X + N × 24 h (X an instant of the
 * SimClock); at X + N × 24 h − 1 ms it is still there. "offen: 10 Tage nach gültig bis" counts from the
 * end of the expiry day (Europe/Berlin): deleted from 00:00 Berlin time of ExpiryDate + 11 days, i.e.
 * still there on the whole calendar day ExpiryDate + 10. Audit events: deleted once now ≥ recorded +
 * 3 calendar years (UTC; 29 Feb → 1 Mar).
 */
import type { SimClock } from '../lib/clock';
import type { FachdienstStore, TaskRecord, TaskStatus } from './store';

const DAY_MS = 24 * 60 * 60 * 1000;

/** TAB_SYSLERP_021: days after the status change (all but "ready", which counts from the expiry date). */
export const TASK_RETENTION_DAYS: Readonly<Record<TaskStatus, number>> = {
  draft: 1,
  ready: 10,
  'in-progress': 100,
  completed: 100,
  cancelled: 10,
};

/** A_18788: messages, days after sending. */
export const COMMUNICATION_RETENTION_DAYS = 100;
/** A_18937: audit events, years after recording. */
export const AUDIT_RETENTION_YEARS = 3;

export interface RetentionCounts {
  tasks: number;
  binaries: number;
  communications: number;
  auditEvents: number;
}

/** 00:00 Europe/Berlin of a calendar day "YYYY-MM-DD" as an instant. */
export function berlinMidnight(day: string): number {
  const [y, m, d] = day.split('-').map(Number);
  const utcMidnight = Date.UTC(y, m - 1, d);
  // Berlin is UTC+1 or UTC+2: try both and keep the one that is 00:00 local
  for (const offsetH of [2, 1]) {
    const t = utcMidnight - offsetH * 3600_000;
    const hour = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', hourCycle: 'h23' }).format(new Date(t)));
    if (hour === 0) return t;
  }
  return utcMidnight - 3600_000;
}

/** The instant from which a task is deleted (undefined: never, e.g. a ready task without ExpiryDate). */
export function taskDeletionTime(t: Pick<TaskRecord, 'status' | 'lastStatusChange' | 'expiryDate'>): number | undefined {
  if (t.status === 'ready') {
    if (!t.expiryDate || !/^\d{4}-\d{2}-\d{2}$/.test(t.expiryDate)) return undefined;
    const [y, m, d] = t.expiryDate.split('-').map(Number);
    const day = new Date(Date.UTC(y, m - 1, d + TASK_RETENTION_DAYS.ready + 1)).toISOString().slice(0, 10);
    return berlinMidnight(day);
  }
  return Date.parse(t.lastStatusChange) + TASK_RETENTION_DAYS[t.status] * DAY_MS;
}

/** recorded + 3 calendar years (UTC). */
export function auditDeletionTime(recordedIso: string): number {
  const d = new Date(recordedIso);
  d.setUTCFullYear(d.getUTCFullYear() + AUDIT_RETENTION_YEARS);
  return d.getTime();
}

/** Deletes everything whose period is over at `now`; one transaction. */
export function runRetention(store: FachdienstStore, now: Date): RetentionCounts {
  const nowMs = now.getTime();
  return store.transaction(() => {
    const counts: RetentionCounts = { tasks: 0, binaries: 0, communications: 0, auditEvents: 0 };
    for (const t of store.taskRetentionFacts()) {
      const at = taskDeletionTime(t);
      if (at === undefined || nowMs < at) continue;
      const r = store.purgeTask(t.id);
      counts.tasks += r.tasks;
      counts.binaries += r.binaries;
      counts.communications += r.communications;
    }
    counts.communications += store.purgeCommunicationsSentUpTo(new Date(nowMs - COMMUNICATION_RETENTION_DAYS * DAY_MS).toISOString());
    // recorded + 3y ≤ now  ⇔  recorded ≤ now − 3y (calendar years, UTC)
    const cutoff = new Date(nowMs);
    cutoff.setUTCFullYear(cutoff.getUTCFullYear() - AUDIT_RETENTION_YEARS);
    counts.auditEvents += store.purgeAuditEventsRecordedUpTo(cutoff.toISOString());
    return counts;
  });
}

export interface RetentionJobOptions {
  store: FachdienstStore;
  clock: SimClock;
  /** Real-time period of the background run (default 60 s; 0 = only on clock changes and on demand). */
  intervalMs?: number;
  log?: (message: string) => void;
}

/** The job: runs on every clock change, every `intervalMs` of real time, and on `runNow()`. */
export class RetentionJob {
  private readonly unsubscribe: () => void;
  private readonly timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly opts: RetentionJobOptions) {
    this.unsubscribe = opts.clock.onChange((now) => {
      this.runSafely(now);
    });
    const interval = opts.intervalMs ?? 60_000;
    if (interval > 0) {
      this.timer = setInterval(() => this.runSafely(opts.clock.now()), interval);
      this.timer.unref();
    }
  }

  /** Runs now (by the SimClock) and returns what was deleted. */
  runNow(): RetentionCounts {
    return runRetention(this.opts.store, this.opts.clock.now());
  }

  private runSafely(now: Date): void {
    if (this.stopped) return;
    try {
      const c = runRetention(this.opts.store, now);
      if (c.tasks || c.communications || c.auditEvents) {
        this.opts.log?.(`retention: deleted ${c.tasks} task(s), ${c.binaries} binary(ies), ${c.communications} message(s), ${c.auditEvents} audit event(s)`);
      }
    } catch (e) {
      this.opts.log?.(`retention: run failed: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    if (this.timer) clearInterval(this.timer);
  }
}
