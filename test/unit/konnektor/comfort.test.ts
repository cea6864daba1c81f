/** The comfort signature state machine (pure logic; the SOAP flow is in signature-service.test.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ComfortError, ComfortSignatures, isStrongUserId, xsdDuration, type ComfortEndReason } from '../../../simulators/konnektor/comfort';

const UID = () => crypto.randomUUID();

function machine(config: ConstructorParameters<typeof ComfortSignatures>[0] = {}) {
  let now = Date.UTC(2025, 0, 1, 8, 0, 0);
  const ended: Array<{ handle: string; reason: ComfortEndReason }> = [];
  const m = new ComfortSignatures({ ...config, now: () => now, onEnd: (s, reason) => ended.push({ handle: s.cardHandle, reason }) });
  return { m, ended, advance: (ms: number) => (now += ms) };
}

test('UserId must be a UUID (4272) and may not be reused within 1000 activations (4270)', () => {
  const { m } = machine();
  assert.equal(isStrongUserId('847babd4-a80d-4b1c-aa09-018a65cd27d7'), true);
  for (const bad of [undefined, '', 'User1', '847babd4a80d4b1caa09018a65cd27d7', '00000000-0000-0000-0000-000000000000', '847babd4-a80d-4b1c-aa09-018a65cd27d']) {
    assert.throws(() => m.checkActivation(bad), (e: unknown) => e instanceof ComfortError && e.code === 4272, String(bad));
  }
  const id = UID();
  m.checkActivation(id);
  assert.throws(() => m.checkActivation(id.toUpperCase()), (e: unknown) => e instanceof ComfortError && e.code === 4270);
  // After 1000 further activations the id has left the window.
  for (let i = 0; i < 1000; i++) m.checkActivation(UID());
  assert.equal(m.checkActivation(id), id);
});

test('a session covers batches while count and time last; the last signature ends it', () => {
  const { m, ended } = machine({ config: { maxSignatures: 5 } });
  const id = m.checkActivation(UID());
  m.activate('H1', id);
  const s1 = m.reserve('H1', id, 3);
  assert.ok(s1);
  assert.equal(s1.remaining, 2);
  m.release(s1);
  assert.equal(m.reserve('H1', id, 3), undefined, 'a batch larger than the rest needs a PIN');
  assert.equal(m.session('H1', id)?.remaining, 2, 'a refused reservation keeps the counter');
  const s2 = m.reserve('H1', id, 2);
  assert.ok(s2);
  m.release(s2);
  assert.equal(m.session('H1', id), undefined);
  assert.deepEqual(ended, [{ handle: 'H1', reason: 'count' }]);
  assert.equal(m.reserve('H1', id, 1), undefined);
});

test('the timer ends the session; other UserIds and cards have their own sessions', () => {
  const { m, ended, advance } = machine({ config: { timerMs: 60_000 } });
  const a = m.checkActivation(UID());
  const b = m.checkActivation(UID());
  m.activate('H1', a);
  advance(30_000);
  m.activate('H1', b);
  assert.equal(m.reserve('H1', UID(), 1), undefined, 'an unknown UserId has no session');
  assert.equal(m.reserve('H2', a, 1), undefined, 'another card has no session');
  advance(30_000);
  assert.equal(m.reserve('H1', a, 1), undefined, 'a expired after 60 s');
  assert.ok(m.reserve('H1', b, 1), 'b runs 30 s longer');
  assert.equal(m.timeRemaining(m.session('H1', b)!), 30_000);
  assert.deepEqual(ended, [{ handle: 'H1', reason: 'timer' }]);
});

test('deactivation, card removal and the administrator switch end sessions', () => {
  const { m, ended } = machine();
  const a = m.checkActivation(UID());
  const b = m.checkActivation(UID());
  m.activate('H1', a);
  m.activate('H1', b);
  m.activate('H2', m.checkActivation(UID()));
  assert.equal(m.endCard('H1', 'deactivated'), 2);
  assert.equal(m.list().length, 1);
  m.endCard('H2', 'card-removed');
  m.activate('H3', m.checkActivation(UID()));
  m.setEnabled(false);
  assert.equal(m.list().length, 0);
  assert.equal(m.reserve('H3', a, 1), undefined);
  assert.deepEqual(
    ended.map((e) => e.reason),
    ['deactivated', 'deactivated', 'card-removed', 'disabled'],
  );
});

test('configuration limits: 1..250 signatures, positive timer', () => {
  assert.throws(() => new ComfortSignatures({ config: { maxSignatures: 251 } }), RangeError);
  assert.throws(() => new ComfortSignatures({ config: { maxSignatures: 0 } }), RangeError);
  assert.throws(() => new ComfortSignatures({ config: { timerMs: 0 } }), RangeError);
  const m = new ComfortSignatures();
  assert.deepEqual(m.config, { enabled: true, maxSignatures: 250, timerMs: 24 * 3600 * 1000 });
});

test('xsd:duration formatting', () => {
  assert.equal(xsdDuration(24 * 3600 * 1000), 'PT24H0M0.000S');
  assert.equal(xsdDuration(3_723_004), 'PT1H2M3.004S');
  assert.equal(xsdDuration(-5), 'PT0H0M0.000S');
});
