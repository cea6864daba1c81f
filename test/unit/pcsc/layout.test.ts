import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultRunDir, LayoutError, pcscSocketPath, planLayout, renderReaderConf, runPaths } from '../../../cards/pcscd/layout';
import { resolveEnvironment, loadEnvironment, DEFAULT_CARDS_CONFIG } from '../../../simulators/lib/config';
import { DEFAULT_PORTS } from '../../../simulators/lib/ports';
import { START_ORDER, SIMULATORS } from '../../../simulators/registry';

test('4 slots: two vpcd entries, slot s on port vpcdPort + s, reader names as pcscd gives them', () => {
  const l = planLayout(4, 35963);
  assert.deepEqual(
    l.slots.map((s) => [s.slot, s.port, s.readerName]),
    [
      [0, 35963, 'TI Virtual PCD 0 00 00'],
      [1, 35964, 'TI Virtual PCD 0 00 01'],
      [2, 35965, 'TI Virtual PCD 1 00 00'],
      [3, 35966, 'TI Virtual PCD 1 00 01'],
    ],
  );
  assert.deepEqual(
    l.entries.map((e) => [e.friendlyName, e.port, e.driverFile]),
    [
      ['TI Virtual PCD 0', 35963, 'libifdvpcd-0.so'],
      ['TI Virtual PCD 1', 35965, 'libifdvpcd-1.so'],
    ],
  );
  assert.equal(planLayout(2, 40000).slots.length, 2);
});

test('reader.conf: one entry per pair of slots, each listening (/dev/null:port) with its own driver copy', () => {
  const conf = renderReaderConf(planLayout(4, 41000), '/run/x/drivers');
  const entries = conf.split(/\n\s*\n/).filter((e) => e.includes('FRIENDLYNAME'));
  assert.equal(entries.length, 2);
  assert.match(entries[0], /FRIENDLYNAME "TI Virtual PCD 0"\nDEVICENAME\s+\/dev\/null:41000\nLIBPATH\s+\/run\/x\/drivers\/libifdvpcd-0\.so\nCHANNELID\s+41000/);
  assert.match(entries[1], /DEVICENAME\s+\/dev\/null:41002\nLIBPATH\s+\/run\/x\/drivers\/libifdvpcd-1\.so\nCHANNELID\s+41002/);
});

test('slot counts other than 2 and 4, and bad ports, are refused with the reason', () => {
  for (const n of [0, 1, 3, 5, 6, 2.5]) assert.throws(() => planLayout(n), (e: Error) => e instanceof LayoutError && /2 or 4.*pairs.*at most 4 readers/.test(e.message));
  assert.throws(() => planLayout(4, 80), /vpcdPort must be 1024\.\.65532/);
  assert.throws(() => planLayout(4, 65533), /vpcdPort/);
});

test('run paths: short, derived from the vpcd port, socket inside the ipc folder', () => {
  assert.equal(defaultRunDir(35963), path.join(os.tmpdir(), 'ti-harness-pcscd-35963'));
  const p = runPaths('/tmp/x');
  assert.equal(p.socketPath, '/tmp/x/ipc/pcscd.comm');
  assert.equal(p.pidFile, '/tmp/x/ipc/pcscd.pid');
  assert.equal(p.configDir, '/tmp/x/reader.conf.d');
  assert.equal(pcscSocketPath(35963), path.join(os.tmpdir(), 'ti-harness-pcscd-35963', 'ipc', 'pcscd.comm'));
});

test('environment: the cards section with defaults, validation and the cards service port', () => {
  const env = resolveEnvironment({}, 'x.yaml');
  assert.deepEqual(env.cards, DEFAULT_CARDS_CONFIG);
  assert.equal(env.services.cards.port, DEFAULT_PORTS.cards);
  assert.equal(DEFAULT_PORTS.cards, 8449);
  const custom = resolveEnvironment({ cards: { slots: 2, vpcdPort: 40000, insert: [' stub-egk '] } }, 'x.yaml');
  assert.deepEqual(custom.cards, { slots: 2, vpcdPort: 40000, insert: ['stub-egk'] });
  assert.throws(() => resolveEnvironment({ cards: { slots: 3 } }, 'x.yaml'), /cards\.slots must be 2 or 4, got 3/);
  assert.throws(() => resolveEnvironment({ cards: { vpcdPort: 22 } }, 'x.yaml'), /cards\.vpcdPort/);
  assert.throws(() => resolveEnvironment({ cards: { insert: 'stub-egk' as unknown as string[] } }, 'x.yaml'), /list of persona names/);
  assert.throws(() => resolveEnvironment({ cards: { slots: 2, insert: ['a', 'b', 'c'] } }, 'x.yaml'), /3 cards but there are only 2 slots/);
  assert.throws(() => resolveEnvironment({ cards: { insert: ['a', 'a'] } }, 'x.yaml'), /names a more than once/);
  const local = loadEnvironment('local', {});
  assert.equal(local.cards.slots, 4);
  assert.ok(local.cards.insert.length >= 1);
});

test('the cards service is registered and starts right after the PKI', () => {
  assert.ok(SIMULATORS.cards);
  assert.deepEqual(START_ORDER.slice(0, 2), ['pki', 'cards']);
});
