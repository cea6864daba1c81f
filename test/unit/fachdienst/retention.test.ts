/**
 * Retention (A_18525 / TAB_SYSLERP_021, A_18788, A_18937): per status row the day before the deadline
 * (still stored) and the day after (physically gone, checked with the read-only storage scanner), the
 * exact boundary, messages at 99/101 days, audit events at 3 years −1 day/+1 day; the job runs on every
 * SimClock change; POST /__admin/retention/run on the real service.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SimClock } from '../../../simulators/lib/clock';
import { buildPrescriptionId } from '../../../simulators/lib/erezept-token';
import { RetentionJob, runRetention, taskDeletionTime } from '../../../simulators/fachdienst/retention';
import { FachdienstStore, type TaskStatus } from '../../../simulators/fachdienst/store';
import { scanStorage } from '../../../simulators/fachdienst/testing/storage-scan';
import { rawRequest, startFdFixture, type FdFixture } from './helpers';

const DAY = 86400_000;
const T0 = Date.parse('2025-03-10T09:30:00.000Z');
let tmp: string;
let seq = 1;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-retention-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function freshStore(): { store: FachdienstStore; clock: SimClock; file: string } {
  const clock = new SimClock(() => T0);
  const file = path.join(tmp, `fd-${seq++}.sqlite`);
  return { store: FachdienstStore.open(file, { clock }), clock, file };
}

/** A task with status `status` reached at T0, with a binary, a message and an audit event naming it. */
function seed(store: FachdienstStore, status: TaskStatus, expiryDate = '2025-06-10'): { id: string; kvnr: string } {
  const id = buildPrescriptionId(160, seq++);
  const kvnr = `X1${String(seq).padStart(8, '0')}`;
  store.createTask({ id, flowType: 160, status, kvnr, accessCode: 'a'.repeat(64), expiryDate });
  store.putBinary({ taskId: id, kind: 'signed-prescription', contentType: 'application/pkcs7-mime', data: Buffer.from(`cms of ${id}`) });
  store.insertCommunication({ id: `00000000-0000-0000-0000-${String(seq).padStart(12, '0')}`, messageType: 'Representative', taskId: id, sender: kvnr, recipient: 'X123456789', sent: new Date(T0).toISOString(), resource: JSON.stringify({ basedOn: [{ reference: `Task/${id}` }] }) });
  return { id, kvnr };
}

function stored(file: string, id: string): string[] {
  return scanStorage(file, [id], { ignoreTables: ['audit_events'] }).map((h) => `${h.table}.${h.column}`);
}

describe('retention of prescriptions (A_18525, TAB_SYSLERP_021)', () => {
  const rows: Array<{ status: TaskStatus; deadline: (expiry: string) => number; label: string }> = [
    { status: 'draft', label: 'initialisiert: 1 day after the status change', deadline: () => T0 + 1 * DAY },
    { status: 'in-progress', label: 'in Abgabe: 100 days after the status change', deadline: () => T0 + 100 * DAY },
    { status: 'completed', label: 'quittiert: 100 days after the status change', deadline: () => T0 + 100 * DAY },
    { status: 'cancelled', label: 'gelöscht: 10 days after the status change', deadline: () => T0 + 10 * DAY },
  ];
  for (const row of rows) {
    test(`${row.label}: the day before still stored, the day after gone from every table; exact boundary`, () => {
      const { store, file } = freshStore();
      try {
        const t = seed(store, row.status);
        const deadline = row.deadline('');
        assert.equal(taskDeletionTime(store.getTask(t.id)!), deadline);
        runRetention(store, new Date(deadline - DAY));
        assert.ok(store.getTask(t.id), 'the day before: stored');
        assert.deepEqual(stored(file, t.id).sort(), ['binaries.data', 'binaries.task_id', 'communications.resource', 'communications.task_id', 'tasks.id'].sort());
        runRetention(store, new Date(deadline - 1));
        assert.ok(store.getTask(t.id), '1 ms before: stored');
        const c = runRetention(store, new Date(deadline));
        assert.deepEqual(c, { tasks: 1, binaries: 1, communications: 1, auditEvents: 0 });
        assert.equal(store.getTask(t.id), undefined);
        assert.deepEqual(stored(file, t.id), [], 'nothing of the prescription left in any table');
        assert.deepEqual(scanStorage(file, [t.kvnr], { ignoreTables: ['audit_events'] }), []);
      } finally {
        store.close();
      }
    });
  }

  test('offen: 10 days after the expiry date — still stored on the whole day ExpiryDate+10 (Berlin), gone from 00:00 of ExpiryDate+11', () => {
    const { store, file } = freshStore();
    try {
      const t = seed(store, 'ready', '2025-06-10'); // +10 = 2025-06-20; Berlin summer time UTC+2
      const endOfDay10 = Date.parse('2025-06-20T21:59:59.999Z');
      const startOfDay11 = Date.parse('2025-06-20T22:00:00.000Z');
      assert.equal(taskDeletionTime(store.getTask(t.id)!), startOfDay11);
      runRetention(store, new Date(startOfDay11 - DAY));
      runRetention(store, new Date(endOfDay10));
      assert.ok(store.getTask(t.id), 'ExpiryDate+10, 23:59:59.999 Berlin: stored');
      runRetention(store, new Date(startOfDay11));
      assert.equal(store.getTask(t.id), undefined);
      assert.deepEqual(stored(file, t.id), []);
      // winter time: ExpiryDate 2025-01-05 → gone from 2025-01-15T23:00Z
      const w = seed(store, 'ready', '2025-01-05');
      assert.equal(taskDeletionTime(store.getTask(w.id)!), Date.parse('2025-01-15T23:00:00.000Z'));
    } finally {
      store.close();
    }
  });
});

describe('retention of messages (A_18788) and audit events (A_18937)', () => {
  test('a message 99 days after sending is stored, 101 days after it is gone; exactly 100 days: gone', () => {
    const { store, file } = freshStore();
    try {
      const t = seed(store, 'ready', '2030-01-01');
      const msg = store.communicationsOf(t.kvnr)[0];
      runRetention(store, new Date(T0 + 99 * DAY));
      assert.ok(store.getCommunication(msg.id));
      runRetention(store, new Date(T0 + 100 * DAY - 1));
      assert.ok(store.getCommunication(msg.id));
      assert.equal(runRetention(store, new Date(T0 + 100 * DAY)).communications, 1);
      runRetention(store, new Date(T0 + 101 * DAY));
      assert.equal(store.getCommunication(msg.id), undefined);
      assert.deepEqual(scanStorage(file, [t.id]).map((h) => h.table).sort(), ['binaries', 'binaries', 'tasks'], 'the prescription itself (ready, expiry 2030) stays; only the message went');
    } finally {
      store.close();
    }
  });

  test('an audit event 3 years − 1 day after recording is stored, 3 years + 1 day after it is gone', () => {
    const { store, clock, file } = freshStore();
    try {
      const ev = store.addAuditEvent({ kvnr: 'X987654321', taskId: '160.000.000.000.777.12', action: 'U', description: 'POST_Task_accept', outcome: '0' });
      void clock;
      runRetention(store, new Date(Date.parse('2028-03-09T09:30:00.000Z')));
      assert.equal(store.auditEventsOfInsured('X987654321').length, 1, '3 years − 1 day');
      runRetention(store, new Date(Date.parse('2028-03-10T09:29:59.999Z')));
      assert.equal(store.auditEventsOfInsured('X987654321').length, 1, '1 ms before 3 years');
      runRetention(store, new Date(Date.parse('2028-03-11T09:30:00.000Z')));
      assert.equal(store.auditEventsOfInsured('X987654321').length, 0, '3 years + 1 day');
      assert.deepEqual(scanStorage(file, [ev.id, 'X987654321']), []);
    } finally {
      store.close();
    }
  });
});

describe('retention job and admin API', () => {
  test('the job runs on every SimClock change (advance and set); stop() unsubscribes', () => {
    const { store, clock } = freshStore();
    const job = new RetentionJob({ store, clock, intervalMs: 0 });
    try {
      const t = seed(store, 'draft');
      clock.advance(DAY - 1);
      assert.ok(store.getTask(t.id));
      clock.advance(1);
      assert.equal(store.getTask(t.id), undefined, 'deleted by the clock change itself');
      const u = seed(store, 'cancelled');
      job.stop();
      clock.advance(30 * DAY);
      assert.ok(store.getTask(u.id), 'stopped job does nothing');
      assert.equal(job.runNow().tasks, 1);
    } finally {
      job.stop();
      store.close();
    }
  });

  describe('on the real service', () => {
    let fx: FdFixture;
    before(async () => {
      fx = await startFdFixture();
    });
    after(async () => {
      await fx?.stop();
    });

    test('POST /__admin/clock deletes at once; POST /__admin/retention/run answers the counts', async () => {
      const store = fx.fd.store;
      const id = buildPrescriptionId(160, 4242);
      store.createTask({ id, flowType: 160, status: 'draft' });
      const adv = await rawRequest(fx, 'POST', `${fx.fd.url}/__admin/clock`, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ advanceMs: DAY + 1000 })));
      assert.equal(adv.status, 200, adv.body.toString());
      assert.equal(store.getTask(id), undefined);
      const id2 = buildPrescriptionId(160, 4243);
      store.createTask({ id: id2, flowType: 160, status: 'draft' });
      const before = await rawRequest(fx, 'POST', `${fx.fd.url}/__admin/retention/run`, {});
      assert.equal(before.status, 200);
      assert.deepEqual((JSON.parse(before.body.toString()) as { deleted: unknown }).deleted, { tasks: 0, binaries: 0, communications: 0, auditEvents: 0 });
      fx.fd.retention.stop(); // so only the admin run deletes
      fx.fd.clock.advance(2 * DAY);
      assert.ok(store.getTask(id2));
      const run = await rawRequest(fx, 'POST', `${fx.fd.url}/__admin/retention/run`, {});
      assert.deepEqual((JSON.parse(run.body.toString()) as { deleted: unknown }).deleted, { tasks: 1, binaries: 0, communications: 0, auditEvents: 0 });
      assert.equal(store.getTask(id2), undefined);
      const file = path.join(path.dirname(store.db.name), 'fachdienst.sqlite');
      assert.deepEqual(scanStorage(file, [id, id2]), [], 'scanner reads the live WAL database read-only');
      fx.fd.clock.reset();
    });
  });
});
