/**
 * The failure taxonomy against the real decision functions: Cucumber's
 * formatError (what a failed step's message looks like) and allure-js-commons'
 * getStatusFromError (failed vs broken), combined as allure-cucumberjs 3.12's
 * reporter combines them (exceptionToError: { message, stack, name: exception.type }).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatError } from '@cucumber/cucumber/lib/runtime/format_error';
import {
  ConformanceAssertionError,
  EnvironmentError,
  TestDefectError,
  describeError,
  failureKindOfType,
  isEnvironmentFault,
  neutralise,
} from '../../../steps/support/errors';

// Typed by hand: the package's "exports" map is not visible to TypeScript's node10 resolution.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getStatusFromError } = require('allure-js-commons/sdk') as { getStatusFromError(error: unknown): string | undefined };

/** Cucumber's exception record of a failed step. */
function exceptionOf(error: Error): { type: string; message?: string; stackTrace?: string; formatted?: string } {
  const { message, exception } = formatError(error, true);
  assert.ok(exception);
  return { ...exception, formatted: message };
}

/** Allure status of a Cucumber step that failed with `error`. */
function allureStatusOfStep(error: Error): string | undefined {
  const ex = exceptionOf(error);
  return getStatusFromError({ message: ex.formatted ?? ex.message, stack: ex.stackTrace, name: ex.type });
}

test('conformance failures are "failed" in Allure, for the Cucumber step and for the runtime step', () => {
  const e = new ConformanceAssertionError('A_1', 'A_1 not met: Status ist 201');
  assert.equal(allureStatusOfStep(e), 'failed');
  assert.equal(getStatusFromError(e), 'failed');
  assert.equal(failureKindOfType(exceptionOf(e).type), 'failed');
});

test('environment faults and test defects are "broken", even when a path or message says "assert"', () => {
  const env = new EnvironmentError('PKI: connect ECONNREFUSED 127.0.0.1:8440 (from assertions-helper.ts)');
  env.stack = neutralise(`${env.name}: ${env.message}\n    at check (/work/steps/assertions.ts:1:1)`);
  const defect = new TestDefectError('no verify() call; do not assert outside verify');
  for (const e of [env, defect]) {
    assert.equal(allureStatusOfStep(e), 'broken', e.name);
    assert.equal(getStatusFromError(e), 'broken', e.name);
    assert.equal(failureKindOfType(exceptionOf(e).type), 'broken');
    assert.ok(!/assert/i.test(e.message), 'message neutralised');
  }
  // Without neutralising, Allure would call the same error "failed": the reason neutralise() exists.
  const raw = Object.assign(new Error('x'), { name: 'EnvironmentError', message: 'assertion helper down' });
  assert.equal(getStatusFromError(raw), 'failed');
});

test('an unwrapped network error of a step is broken too', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8443'), { code: 'ECONNREFUSED' });
  assert.equal(allureStatusOfStep(new TypeError('fetch failed', { cause: refused })), 'broken');
});

test('isEnvironmentFault: socket codes, cause chains, timeouts, kind=network', () => {
  const code = (c: string) => Object.assign(new Error(c), { code: c });
  assert.ok(isEnvironmentFault(code('ECONNREFUSED')));
  assert.ok(isEnvironmentFault(new TypeError('fetch failed', { cause: code('UND_ERR_CONNECT_TIMEOUT') })));
  assert.ok(isEnvironmentFault(new AggregateError([code('ECONNREFUSED')], '')));
  assert.ok(isEnvironmentFault(Object.assign(new Error('t'), { name: 'TimeoutError' })));
  assert.ok(isEnvironmentFault(Object.assign(new Error('ocsp'), { kind: 'network' })));
  assert.ok(isEnvironmentFault(new EnvironmentError('down')));
  assert.ok(!isEnvironmentFault(new Error('plain')));
  assert.ok(!isEnvironmentFault(Object.assign(new Error('ocsp'), { kind: 'http-status' })));
  assert.ok(!isEnvironmentFault(new assert.AssertionError({ message: 'x' })));
});

test('describeError follows the cause chain without repeating itself', () => {
  const inner = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  assert.equal(describeError(new Error('GET x failed: connect ECONNREFUSED 127.0.0.1:1', { cause: inner })), 'GET x failed: connect ECONNREFUSED 127.0.0.1:1');
  assert.equal(describeError(new TypeError('fetch failed', { cause: inner })), 'fetch failed: connect ECONNREFUSED 127.0.0.1:1');
});
