/** The read-only storage scanner (simulators/fachdienst/testing/storage-scan.ts). */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { SimClock } from '../../../simulators/lib/clock';
import { FachdienstStore } from '../../../simulators/fachdienst/store';
import { fachdienstDatabaseFile, scanStorage } from '../../../simulators/fachdienst/testing/storage-scan';

test('scanStorage finds a string in text and blob columns of every table, honours ignoreTables, never writes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-scan-'));
  const file = path.join(dir, 'fachdienst.sqlite');
  const store = FachdienstStore.open(file, { clock: new SimClock() });
  try {
    store.createTask({ id: '160.000.000.000.001.05', flowType: 160, status: 'ready', kvnr: 'X110000001' });
    store.putBinary({ taskId: '160.000.000.000.001.05', kind: 'x', contentType: 'application/octet-stream', data: Buffer.from('\x00\x01KVNR X110000001 in a blob') });
    store.addAuditEvent({ kvnr: 'X110000001', action: 'R', description: 'd', outcome: '0' });
    const hits = scanStorage(file, ['X110000001']).map((h) => `${h.table}.${h.column}`).sort();
    assert.deepEqual(hits, ['audit_events.kvnr', 'binaries.data', 'tasks.kvnr']);
    assert.deepEqual(scanStorage(file, ['X110000001'], { ignoreTables: ['audit_events', 'binaries'] }).map((h) => h.table), ['tasks']);
    assert.deepEqual(scanStorage(file, ['not stored anywhere']), []);
    const before = fs.statSync(file).mtimeMs;
    scanStorage(file, ['X110000001']);
    assert.equal(fs.statSync(file).mtimeMs, before, 'read-only');
    assert.throws(() => scanStorage(path.join(dir, 'missing.sqlite'), ['x']), /no database file/);
    assert.throws(() => scanStorage(file, ['']), /non-empty/);
    assert.equal(fachdienstDatabaseFile('/data/x'), path.join('/data/x', 'fachdienst', 'fachdienst.sqlite'));
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
