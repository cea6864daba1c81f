/**
 * The Fachdienst's SQLite store: migrations (fresh and from an older schema, refusing a newer one),
 * transactions (all or nothing, A_18936), prescription counters that never repeat (also after a
 * reopen), tasks with SimClock timestamps, binaries deleted with their task, audit events.
 */
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimClock } from '../../../simulators/lib/clock';
import { FachdienstStore, MIGRATIONS, StoreError } from '../../../simulators/fachdienst/store';

let dir: string;
let file: string;
let clock: SimClock;
const open = (migrations = MIGRATIONS) => FachdienstStore.open(file, { clock, migrations });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-fd-store-'));
  file = path.join(dir, 'fd.sqlite');
  clock = new SimClock();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('fresh database: all migrations applied, WAL journal, schema version 2', () => {
  const s = open();
  try {
    assert.equal(s.schemaVersion(), MIGRATIONS[MIGRATIONS.length - 1].version);
    assert.equal(s.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(s.db.pragma('foreign_keys', { simple: true }), 1);
  } finally {
    s.close();
  }
});

test('reopen an older schema: the missing migration is applied and the data survives; a newer schema is refused', () => {
  const v1 = open(MIGRATIONS.slice(0, 1));
  v1.createTask({ id: '160.000.000.000.001.05', flowType: 160 });
  assert.equal(v1.schemaVersion(), 1);
  assert.throws(() => v1.addAuditEvent({ action: 'R', description: 'x', outcome: '0' }), /no such table: audit_events/);
  v1.close();
  const v2 = open();
  try {
    assert.equal(v2.schemaVersion(), MIGRATIONS[MIGRATIONS.length - 1].version);
    assert.equal(v2.getTask('160.000.000.000.001.05')?.status, 'draft');
    assert.equal(v2.addAuditEvent({ kvnr: 'X123456789', action: 'R', description: 'read', outcome: '0' }).action, 'R');
  } finally {
    v2.close();
  }
  assert.throws(() => open(MIGRATIONS.slice(0, 1)), (e: unknown) => e instanceof StoreError && /newer than this harness knows/.test((e as Error).message));
});

test('transactions: a throw inside rolls back every write of the request (A_18936)', () => {
  const s = open();
  try {
    s.createTask({ id: 't1', flowType: 160 });
    assert.throws(() =>
      s.transaction(() => {
        s.updateTask('t1', { status: 'ready', kvnr: 'X123456789' });
        s.putBinary({ taskId: 't1', kind: 'signed-prescription', contentType: 'application/pkcs7-mime', data: Buffer.from([1, 2, 3]) });
        s.nextPrescriptionNumber(160);
        throw new Error('signature check failed late');
      }),
    );
    const t = s.getTask('t1');
    assert.equal(t?.status, 'draft');
    assert.equal(t?.kvnr, undefined);
    assert.equal(s.binariesOfTask('t1').length, 0);
    assert.equal(s.nextPrescriptionNumber(160), 1, 'the counter step inside the rolled-back transaction is undone too');
    s.transaction(() => {
      s.updateTask('t1', { status: 'ready' });
      s.putBinary({ taskId: 't1', kind: 'signed-prescription', contentType: 'application/pkcs7-mime', data: Buffer.from([9]) });
    });
    assert.equal(s.getTask('t1')?.status, 'ready');
    assert.equal(s.binariesOfTask('t1', 'signed-prescription')[0].data[0], 9);
  } finally {
    s.close();
  }
});

test('prescription counters: sequential per flow type, never repeated after a reopen', () => {
  const s = open();
  assert.deepEqual([s.nextPrescriptionNumber(160), s.nextPrescriptionNumber(160), s.nextPrescriptionNumber(200), s.nextPrescriptionNumber(160)], [1, 2, 1, 3]);
  s.close();
  const again = open();
  try {
    assert.equal(again.nextPrescriptionNumber(160), 4);
    assert.equal(again.nextPrescriptionNumber(200), 2);
    assert.throws(() => again.nextPrescriptionNumber(1000), StoreError);
  } finally {
    again.close();
  }
});

test('tasks: timestamps from the SimClock, status change time, null clears personal data, binaries cascade on delete', () => {
  // A clock that only moves when told to (system time frozen at 08:00).
  clock = new SimClock(() => Date.parse('2025-03-01T08:00:00Z'));
  const s = open();
  try {
    const t = s.createTask({ id: 't2', flowType: 169, accessCode: 'a'.repeat(64), prescriberId: '1-2-3' });
    assert.equal(t.createdAt, '2025-03-01T08:00:00.000Z');
    assert.equal(t.accessCode, 'a'.repeat(64));
    clock.advance(60_000);
    const u = s.updateTask('t2', { status: 'ready', kvnr: 'X123456789' });
    assert.equal(u.lastStatusChange, '2025-03-01T08:01:00.000Z');
    clock.advance(60_000);
    const v = s.updateTask('t2', { kvnr: null, accessCode: null });
    assert.equal(v.lastModified, '2025-03-01T08:02:00.000Z');
    assert.equal(v.lastStatusChange, '2025-03-01T08:01:00.000Z', 'no status change: unchanged');
    assert.equal(v.kvnr, undefined);
    assert.equal(v.accessCode, undefined);
    assert.throws(() => s.updateTask('missing', { status: 'ready' }), StoreError);
    assert.throws(() => s.createTask({ id: 't2', flowType: 160 }), /UNIQUE/);
    s.putBinary({ taskId: 't2', kind: 'receipt', contentType: 'application/pkcs7-mime', data: Buffer.from('r') });
    assert.equal(s.deleteTask('t2'), true);
    assert.equal(s.binariesOfTask('t2').length, 0);
    assert.equal(s.getTask('t2'), undefined);
  } finally {
    s.close();
  }
});

test('audit events: per insured, in order', () => {
  const s = open();
  try {
    s.addAuditEvent({ kvnr: 'X123456789', taskId: 't', action: 'C', agentName: 'Praxis', description: 'created', outcome: '0' });
    s.addAuditEvent({ kvnr: 'Y123456789', action: 'R', description: 'other', outcome: '0' });
    s.addAuditEvent({ kvnr: 'X123456789', taskId: 't', action: 'R', agentName: 'Apotheke', description: 'read', outcome: '0' });
    assert.deepEqual(s.auditEventsOfInsured('X123456789').map((e) => e.description), ['created', 'read']);
  } finally {
    s.close();
  }
});
