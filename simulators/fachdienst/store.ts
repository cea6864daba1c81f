/**
 * Persistent state of the Fachdienst: one SQLite database (better-sqlite3, WAL) in the service's
 * data directory, with numbered schema migrations and a small repository API for the workflow.
 *
 * Tables (schema version 2):
 *   tasks                  one row per Task (id = prescription ID): flow type, status, AccessCode,
 *                          Secret, KVNR, owner (Telematik-ID of the accepting pharmacy), prescriber,
 *                          authoredOn / expiry / accept dates, created / modified / status-changed
 *                          times of the SimClock
 *   binaries               signed prescriptions, server-signed copies, receipts, dispense data
 *                          (bytes + content type + kind), deleted with their task
 *   prescription_counters  the last number handed out per flow type: IDs are sequential and never
 *                          reused (A_18519, A_18764), also across restarts
 *   audit_events           access protocol for the insured (A_18497, A_18526)
 *
 * Transactions (A_18936): every write helper runs in a transaction of its own; a handler that writes
 * more than once wraps its writes in `store.transaction(() => …)` so they commit together or not at
 * all (nested calls become savepoints). better-sqlite3 is synchronous, so a transaction never spans
 * an await: handlers do their asynchronous checks (OCSP, signature, …) first and then write.
 * No workflow rule lives here (status transitions, ID format, check digits): that is the route modules' job.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { SimClock } from '../lib/clock';

/** FHIR Task.status values the workflow uses (gemSpec_FD_eRp state machine). */
export type TaskStatus = 'draft' | 'ready' | 'in-progress' | 'completed' | 'cancelled';

export interface TaskRecord {
  id: string;
  flowType: number;
  status: TaskStatus;
  accessCode?: string;
  secret?: string;
  kvnr?: string;
  /** Telematik-ID of the pharmacy that accepted (Task.owner). */
  owner?: string;
  /** Telematik-ID (or other id) of the prescriber. */
  prescriberId?: string;
  authoredOn?: string;
  expiryDate?: string;
  acceptDate?: string;
  createdAt: string;
  lastModified: string;
  lastStatusChange: string;
}

export type NewTask = Pick<TaskRecord, 'id' | 'flowType'> & Partial<Omit<TaskRecord, 'id' | 'flowType' | 'createdAt' | 'lastModified' | 'lastStatusChange'>>;
export type TaskUpdate = Partial<Omit<TaskRecord, 'id' | 'flowType' | 'createdAt' | 'lastModified' | 'lastStatusChange'>>;

/** Kinds of stored binaries (free text; these are the ones the workflow needs). */
export type BinaryKind = 'signed-prescription' | 'server-signed-prescription' | 'receipt' | 'medication-dispense' | (string & {});

export interface BinaryRecord {
  id: string;
  taskId?: string;
  kind: BinaryKind;
  contentType: string;
  data: Buffer;
  createdAt: string;
}

export interface AuditEventRecord {
  id: string;
  /** KVNR of the insured the entry is for. */
  kvnr?: string;
  taskId?: string;
  /** FHIR AuditEvent.action: C create, R read, U update, D delete, E execute. */
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  /** Telematik-ID or KVNR of the accessing party. */
  agentId?: string;
  agentName?: string;
  agentOid?: string;
  description: string;
  /** FHIR AuditEvent.outcome: 0 success, 4 minor failure, 8 serious, 12 major. */
  outcome: '0' | '4' | '8' | '12';
  recorded: string;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Schema history: append new migrations, never edit applied ones. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'tasks, binaries, prescription counters',
    sql: `
      CREATE TABLE tasks (
        id                 TEXT PRIMARY KEY,
        flow_type          INTEGER NOT NULL,
        status             TEXT NOT NULL CHECK (status IN ('draft','ready','in-progress','completed','cancelled')),
        access_code        TEXT,
        secret             TEXT,
        kvnr               TEXT,
        owner              TEXT,
        prescriber_id      TEXT,
        authored_on        TEXT,
        expiry_date        TEXT,
        accept_date        TEXT,
        created_at         TEXT NOT NULL,
        last_modified      TEXT NOT NULL,
        last_status_change TEXT NOT NULL
      );
      CREATE INDEX tasks_kvnr ON tasks (kvnr);
      CREATE TABLE binaries (
        id           TEXT PRIMARY KEY,
        task_id      TEXT REFERENCES tasks (id) ON DELETE CASCADE,
        kind         TEXT NOT NULL,
        content_type TEXT NOT NULL,
        data         BLOB NOT NULL,
        created_at   TEXT NOT NULL
      );
      CREATE INDEX binaries_task ON binaries (task_id, kind);
      CREATE TABLE prescription_counters (
        flow_type  INTEGER PRIMARY KEY,
        last_value INTEGER NOT NULL
      );`,
  },
  {
    version: 2,
    name: 'audit events',
    sql: `
      CREATE TABLE audit_events (
        id          TEXT PRIMARY KEY,
        kvnr        TEXT,
        task_id     TEXT,
        action      TEXT NOT NULL CHECK (action IN ('C','R','U','D','E')),
        agent_id    TEXT,
        agent_name  TEXT,
        agent_oid   TEXT,
        description TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        recorded    TEXT NOT NULL
      );
      CREATE INDEX audit_events_kvnr ON audit_events (kvnr, recorded);`,
  },
  {
    // ---- communications (issue 7: messages, routes/communication.ts) ----
    // Messages of a task go with the task: when it becomes completed ($close) or cancelled ($abort),
    // and when its row is deleted (retention). Done by triggers so every writer of tasks gets it.
    version: 3,
    name: 'communications',
    sql: `
      CREATE TABLE communications (
        id           TEXT PRIMARY KEY,
        message_type TEXT NOT NULL,
        task_id      TEXT NOT NULL,
        sender       TEXT NOT NULL,
        recipient    TEXT NOT NULL,
        sent         TEXT NOT NULL,
        received     TEXT,
        resource     TEXT NOT NULL
      );
      CREATE INDEX communications_recipient ON communications (recipient, sent);
      CREATE INDEX communications_sender ON communications (sender, sent);
      CREATE INDEX communications_task ON communications (task_id);
      CREATE TRIGGER tasks_closed_delete_communications AFTER UPDATE OF status ON tasks
        WHEN NEW.status IN ('completed', 'cancelled') AND OLD.status <> NEW.status
        BEGIN DELETE FROM communications WHERE task_id = NEW.id; END;
      CREATE TRIGGER tasks_deleted_delete_communications AFTER DELETE ON tasks
        BEGIN DELETE FROM communications WHERE task_id = OLD.id; END;`,
  },
];

interface TaskRow {
  id: string;
  flow_type: number;
  status: TaskStatus;
  access_code: string | null;
  secret: string | null;
  kvnr: string | null;
  owner: string | null;
  prescriber_id: string | null;
  authored_on: string | null;
  expiry_date: string | null;
  accept_date: string | null;
  created_at: string;
  last_modified: string;
  last_status_change: string;
}

const TASK_COLUMNS: Record<keyof TaskUpdate, string> = {
  status: 'status',
  accessCode: 'access_code',
  secret: 'secret',
  kvnr: 'kvnr',
  owner: 'owner',
  prescriberId: 'prescriber_id',
  authoredOn: 'authored_on',
  expiryDate: 'expiry_date',
  acceptDate: 'accept_date',
};

function taskFromRow(r: TaskRow): TaskRecord {
  const t: TaskRecord = {
    id: r.id,
    flowType: r.flow_type,
    status: r.status,
    createdAt: r.created_at,
    lastModified: r.last_modified,
    lastStatusChange: r.last_status_change,
  };
  for (const [k, col] of Object.entries(TASK_COLUMNS) as Array<[keyof TaskUpdate, keyof TaskRow]>) {
    if (k === 'status') continue;
    const v = r[col];
    if (v !== null && v !== undefined) (t as unknown as Record<string, unknown>)[k] = v;
  }
  return t;
}

export interface StoreOptions {
  clock: SimClock;
  log?: (message: string) => void;
  /** Migrations to apply (default MIGRATIONS; tests pass a prefix to simulate an older schema). */
  migrations?: readonly Migration[];
}

export class StoreError extends Error {
  override name = 'StoreError';
}

export class FachdienstStore {
  readonly db: Database.Database;
  private readonly clock: SimClock;

  private constructor(db: Database.Database, opts: StoreOptions) {
    this.db = db;
    this.clock = opts.clock;
  }

  /** Opens (creating when missing) the database file and brings its schema up to date. */
  static open(file: string, opts: StoreOptions): FachdienstStore {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file, { timeout: 5000 });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      const store = new FachdienstStore(db, opts);
      store.migrate(opts.migrations ?? MIGRATIONS, opts.log);
      return store;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  private migrate(migrations: readonly Migration[], log?: (m: string) => void): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const current = this.schemaVersion();
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (current > known) throw new StoreError(`database schema version ${current} is newer than this harness knows (${known})`);
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
      }).immediate();
      log?.(`store: applied migration ${m.version} (${m.name})`);
    }
  }

  schemaVersion(): number {
    const r = this.db.prepare<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations').get();
    return r?.v ?? 0;
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  /**
   * Harness fault injection (faults.ts, @simulator-only): called inside the outermost transaction
   * after its writes, right before COMMIT; a throw rolls the whole transaction back.
   */
  beforeCommit?: () => void;

  /** Runs `fn` in one transaction (BEGIN IMMEDIATE; nested: savepoint). A throw rolls everything back. */
  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return this.db.transaction(fn)();
    return this.db
      .transaction(() => {
        const result = fn();
        this.beforeCommit?.();
        return result;
      })
      .immediate();
  }

  // ------------------------------------------------------------------ prescription counters

  /** The next number of a flow type's sequence (1, 2, …); never hands out a number twice. */
  nextPrescriptionNumber(flowType: number): number {
    if (!Number.isInteger(flowType) || flowType < 0 || flowType > 999) throw new StoreError(`flow type ${flowType} is not 0..999`);
    return this.transaction(() => {
      this.db
        .prepare('INSERT INTO prescription_counters (flow_type, last_value) VALUES (?, 1) ON CONFLICT (flow_type) DO UPDATE SET last_value = last_value + 1')
        .run(flowType);
      return (this.db.prepare<{ last_value: number }>('SELECT last_value FROM prescription_counters WHERE flow_type = ?').get(flowType) as { last_value: number }).last_value;
    });
  }

  // ------------------------------------------------------------------ tasks

  createTask(t: NewTask): TaskRecord {
    const now = this.now();
    return this.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO tasks (id, flow_type, status, access_code, secret, kvnr, owner, prescriber_id, authored_on, expiry_date, accept_date, created_at, last_modified, last_status_change)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          t.id,
          t.flowType,
          t.status ?? 'draft',
          t.accessCode ?? null,
          t.secret ?? null,
          t.kvnr ?? null,
          t.owner ?? null,
          t.prescriberId ?? null,
          t.authoredOn ?? null,
          t.expiryDate ?? null,
          t.acceptDate ?? null,
          now,
          now,
          now,
        );
      return this.getTask(t.id) as TaskRecord;
    });
  }

  getTask(id: string): TaskRecord | undefined {
    const r = this.db.prepare<TaskRow>('SELECT * FROM tasks WHERE id = ?').get(id);
    return r ? taskFromRow(r) : undefined;
  }

  tasksOfInsured(kvnr: string): TaskRecord[] {
    return this.db.prepare<TaskRow>('SELECT * FROM tasks WHERE kvnr = ? ORDER BY created_at').all(kvnr).map(taskFromRow);
  }

  /**
   * Changes fields of a task; `null` clears a field (deletion of personal data, A_18820). Sets
   * lastModified, and lastStatusChange when the status changes. Throws StoreError when the task is missing.
   */
  updateTask(id: string, patch: { [K in keyof TaskUpdate]?: TaskUpdate[K] | null }): TaskRecord {
    const now = this.now();
    return this.transaction(() => {
      const before = this.getTask(id);
      if (!before) throw new StoreError(`no task ${id}`);
      const sets: string[] = [];
      const values: unknown[] = [];
      for (const [k, v] of Object.entries(patch) as Array<[keyof TaskUpdate, unknown]>) {
        const col = TASK_COLUMNS[k];
        if (!col) throw new StoreError(`task field ${String(k)} cannot be updated`);
        if (v === undefined) continue;
        sets.push(`${col} = ?`);
        values.push(v);
      }
      sets.push('last_modified = ?');
      values.push(now);
      if (patch.status && patch.status !== before.status) {
        sets.push('last_status_change = ?');
        values.push(now);
      }
      this.db.prepare(`UPDATE tasks SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
      return this.getTask(id) as TaskRecord;
    });
  }

  /** Removes a task and (cascade) its binaries. */
  deleteTask(id: string): boolean {
    return this.transaction(() => this.db.prepare('DELETE FROM tasks WHERE id = ?').run(id).changes > 0);
  }

  // ------------------------------------------------------------------ binaries

  putBinary(b: { taskId?: string; kind: BinaryKind; contentType: string; data: Buffer; id?: string }): BinaryRecord {
    const rec: BinaryRecord = {
      id: b.id ?? crypto.randomUUID(),
      ...(b.taskId ? { taskId: b.taskId } : {}),
      kind: b.kind,
      contentType: b.contentType,
      data: Buffer.from(b.data),
      createdAt: this.now(),
    };
    this.transaction(() =>
      this.db
        .prepare('INSERT INTO binaries (id, task_id, kind, content_type, data, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(rec.id, rec.taskId ?? null, rec.kind, rec.contentType, rec.data, rec.createdAt),
    );
    return rec;
  }

  getBinary(id: string): BinaryRecord | undefined {
    const r = this.db.prepare<BinaryRow>('SELECT * FROM binaries WHERE id = ?').get(id);
    return r ? binaryFromRow(r) : undefined;
  }

  binariesOfTask(taskId: string, kind?: BinaryKind): BinaryRecord[] {
    const rows = kind
      ? this.db.prepare<BinaryRow>('SELECT * FROM binaries WHERE task_id = ? AND kind = ? ORDER BY created_at, rowid').all(taskId, kind)
      : this.db.prepare<BinaryRow>('SELECT * FROM binaries WHERE task_id = ? ORDER BY created_at, rowid').all(taskId);
    return rows.map(binaryFromRow);
  }

  /** Deletes a task's binaries (all, or of one kind); returns how many. */
  deleteBinaries(taskId: string, kind?: BinaryKind): number {
    return this.transaction(() =>
      kind
        ? this.db.prepare('DELETE FROM binaries WHERE task_id = ? AND kind = ?').run(taskId, kind).changes
        : this.db.prepare('DELETE FROM binaries WHERE task_id = ?').run(taskId).changes,
    );
  }

  // ------------------------------------------------------------------ audit events

  addAuditEvent(e: Omit<AuditEventRecord, 'id' | 'recorded'> & { id?: string }): AuditEventRecord {
    const rec: AuditEventRecord = { ...e, id: e.id ?? crypto.randomUUID(), recorded: this.now() };
    this.transaction(() =>
      this.db
        .prepare(
          'INSERT INTO audit_events (id, kvnr, task_id, action, agent_id, agent_name, agent_oid, description, outcome, recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(rec.id, rec.kvnr ?? null, rec.taskId ?? null, rec.action, rec.agentId ?? null, rec.agentName ?? null, rec.agentOid ?? null, rec.description, rec.outcome, rec.recorded),
    );
    return rec;
  }

  auditEventsOfInsured(kvnr: string): AuditEventRecord[] {
    return this.db
      .prepare<AuditRow>('SELECT * FROM audit_events WHERE kvnr = ? ORDER BY recorded, rowid')
      .all(kvnr)
      .map((r) => {
        const out: AuditEventRecord = { id: r.id, action: r.action, description: r.description, outcome: r.outcome, recorded: r.recorded };
        if (r.kvnr !== null) out.kvnr = r.kvnr;
        if (r.task_id !== null) out.taskId = r.task_id;
        if (r.agent_id !== null) out.agentId = r.agent_id;
        if (r.agent_name !== null) out.agentName = r.agent_name;
        if (r.agent_oid !== null) out.agentOid = r.agent_oid;
        return out;
      });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- robustness (harness admin task view: what a failed call left behind) ----

  /** How many access-protocol entries name the task (A_18936 scenarios: none of a rolled-back call). */
  auditEventCountOfTask(taskId: string): number {
    return (this.db.prepare<{ n: number }>('SELECT COUNT(*) AS n FROM audit_events WHERE task_id = ?').get(taskId) as { n: number }).n;
  }

  // ---- communications (issue 7: routes/communication.ts, retention.ts) ----

  insertCommunication(c: Omit<CommunicationRecord, 'received'>): CommunicationRecord {
    this.transaction(() =>
      this.db
        .prepare('INSERT INTO communications (id, message_type, task_id, sender, recipient, sent, received, resource) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)')
        .run(c.id, c.messageType, c.taskId, c.sender, c.recipient, c.sent, c.resource),
    );
    return { ...c };
  }

  getCommunication(id: string): CommunicationRecord | undefined {
    const r = this.db.prepare<CommunicationRow>('SELECT * FROM communications WHERE id = ?').get(id);
    return r ? communicationFromRow(r) : undefined;
  }

  /** Messages the identity (KVNR or Telematik-ID) sent or received, oldest first. */
  communicationsOf(identity: string): CommunicationRecord[] {
    return this.db
      .prepare<CommunicationRow>('SELECT * FROM communications WHERE sender = ? OR recipient = ? ORDER BY sent, id')
      .all(identity, identity)
      .map(communicationFromRow);
  }

  /** Sets `received` on those of the messages that have none yet. */
  markCommunicationsReceived(ids: readonly string[], at: string): void {
    if (!ids.length) return;
    this.transaction(() => {
      const st = this.db.prepare('UPDATE communications SET received = ? WHERE id = ? AND received IS NULL');
      for (const id of ids) st.run(at, id);
    });
  }

  deleteCommunication(id: string): boolean {
    return this.transaction(() => this.db.prepare('DELETE FROM communications WHERE id = ?').run(id).changes > 0);
  }

  /** Representative messages of a task between two KVNRs, in either direction (A_20229-01). */
  countRepresentativeCommunications(taskId: string, a: string, b: string): number {
    const r = this.db
      .prepare<{ n: number }>(
        "SELECT COUNT(*) AS n FROM communications WHERE task_id = ? AND message_type = 'Representative' AND ((sender = ? AND recipient = ?) OR (sender = ? AND recipient = ?))",
      )
      .get(taskId, a, b, b, a);
    return r?.n ?? 0;
  }

  /** Deletes every message of a task (the status triggers of migration 3 do this on completed/cancelled/deleted). */
  deleteCommunicationsOfTask(taskId: string): number {
    return this.transaction(() => this.db.prepare('DELETE FROM communications WHERE task_id = ?').run(taskId).changes);
  }

  /** Retention (A_18788): deletes messages sent at or before `cutoff` (ISO); returns how many. */
  purgeCommunicationsSentUpTo(cutoff: string): number {
    return this.transaction(() => this.db.prepare('DELETE FROM communications WHERE sent <= ?').run(cutoff).changes);
  }

  /** Retention (A_18937): deletes audit events recorded at or before `cutoff` (ISO); returns how many. */
  purgeAuditEventsRecordedUpTo(cutoff: string): number {
    return this.transaction(() => this.db.prepare('DELETE FROM audit_events WHERE recorded <= ?').run(cutoff).changes);
  }

  /** Retention (A_18525) candidates: every task with the fields the deletion rules read. */
  taskRetentionFacts(): Array<Pick<TaskRecord, 'id' | 'status' | 'lastStatusChange' | 'expiryDate'>> {
    return this.db
      .prepare<{ id: string; status: TaskStatus; last_status_change: string; expiry_date: string | null }>('SELECT id, status, last_status_change, expiry_date FROM tasks')
      .all()
      .map((r) => ({ id: r.id, status: r.status, lastStatusChange: r.last_status_change, ...(r.expiry_date ? { expiryDate: r.expiry_date } : {}) }));
  }

  /** Physically deletes a task row with its binaries and messages; returns what went. */
  purgeTask(id: string): { tasks: number; binaries: number; communications: number } {
    return this.transaction(() => {
      const binaries = this.db.prepare('DELETE FROM binaries WHERE task_id = ?').run(id).changes;
      const communications = this.db.prepare('DELETE FROM communications WHERE task_id = ?').run(id).changes;
      const tasks = this.db.prepare('DELETE FROM tasks WHERE id = ?').run(id).changes;
      return { tasks, binaries, communications };
    });
  }
}

interface BinaryRow {
  id: string;
  task_id: string | null;
  kind: string;
  content_type: string;
  data: Buffer;
  created_at: string;
}

interface AuditRow {
  id: string;
  kvnr: string | null;
  task_id: string | null;
  action: AuditEventRecord['action'];
  agent_id: string | null;
  agent_name: string | null;
  agent_oid: string | null;
  description: string;
  outcome: AuditEventRecord['outcome'];
  recorded: string;
}

function binaryFromRow(r: BinaryRow): BinaryRecord {
  return {
    id: r.id,
    ...(r.task_id !== null ? { taskId: r.task_id } : {}),
    kind: r.kind,
    contentType: r.content_type,
    data: Buffer.from(r.data),
    createdAt: r.created_at,
  };
}

// ---- communications (issue 7) ----

/** Message types of the Communication profiles in scope (workflow 1.x). */
export type CommunicationMessageType = 'DispReq' | 'Reply' | 'Representative';

export interface CommunicationRecord {
  /** Resource id (time-ordered UUID). */
  id: string;
  messageType: CommunicationMessageType;
  /** PrescriptionID of the task in basedOn. */
  taskId: string;
  /** KVNR or Telematik-ID (from the sender's access token). */
  sender: string;
  /** KVNR or Telematik-ID (recipient[0].identifier.value). */
  recipient: string;
  /** ISO time of the POST (SimClock). */
  sent: string;
  /** ISO time the recipient first fetched it. */
  received?: string;
  /** The stored Communication as FHIR JSON (id, sent, sender set; never received). */
  resource: string;
}

interface CommunicationRow {
  id: string;
  message_type: CommunicationMessageType;
  task_id: string;
  sender: string;
  recipient: string;
  sent: string;
  received: string | null;
  resource: string;
}

function communicationFromRow(r: CommunicationRow): CommunicationRecord {
  return {
    id: r.id,
    messageType: r.message_type,
    taskId: r.task_id,
    sender: r.sender,
    recipient: r.recipient,
    sent: r.sent,
    ...(r.received !== null ? { received: r.received } : {}),
    resource: r.resource,
  };
}

/** Deletes every message of a task (for a handler that ends a task without the status triggers). */
export function deleteCommunicationsOfTask(store: FachdienstStore, taskId: string): number {
  return store.deleteCommunicationsOfTask(taskId);
}
