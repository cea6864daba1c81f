/**
 * The harness's failure taxonomy (DESIGN §3 "Failures are classified").
 *
 *  - conformance failure: the system under test did something a requirement
 *    forbids. Cucumber: failed. Allure: *failed*. Trace: the assertion failed.
 *  - environment fault: a service is down, a connection was refused or timed
 *    out, a harness-only admin call did not work. Nothing was learned about
 *    conformance. Cucumber: failed. Allure: *broken*.
 *  - test defect: the scenario itself is wrong (no verify() call, unknown
 *    requirement id, verify() not awaited). Allure: *broken*.
 *
 * How Allure decides (allure-js-commons 3.12 `getStatusFromError`, used by
 * allure-cucumberjs for every failed Cucumber step and for every failed
 * runtime step): an error is *failed* when its constructor name, its `name`
 * or its message matches /assert/i (or it carries `actual`/`expected`/
 * `matcherResult`/`inspect`); everything else is *broken*. For Cucumber steps
 * the reporter only sees `exception.type` (= constructor name) and the
 * formatted stack trace as the message. Therefore:
 *  - conformance failures are thrown as `ConformanceAssertionError` (the name
 *    contains "Assertion") or node:assert's `AssertionError`;
 *  - every other class here is named without "assert", and its messages are
 *    written so they never contain that word (see `neutralise`).
 * test/unit/trace/errors.test.ts pins this against the real functions of
 * Cucumber and allure-js-commons.
 */

/** A requirement did not hold. Allure: failed. */
export class ConformanceAssertionError extends Error {
  override name = 'ConformanceAssertionError';
  constructor(
    readonly afoId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A service could not be reached or misbehaved outside the SUT's interface. Allure: broken. */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(neutralise(message), options);
    if (this.stack) this.stack = neutralise(this.stack);
  }
}

/** The scenario or step code is wrong (not the system under test). Allure: broken. */
export class TestDefectError extends Error {
  override name = 'TestDefectError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(neutralise(message), options);
    if (this.stack) this.stack = neutralise(this.stack);
  }
}

/** Error codes of sockets, DNS and undici that mean "the environment", never "the SUT's answer". */
const ENVIRONMENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_ABORTED',
]);

function errorCode(e: unknown): string | undefined {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return (e as { code: string }).code;
  }
  return undefined;
}

/**
 * True if `e` (or its `cause` chain, or one of an AggregateError's errors)
 * is a network/timeout fault: ECONNREFUSED & co., undici's "fetch failed",
 * AbortSignal.timeout()'s TimeoutError, an aborted request, an error with
 * `kind: 'network' | 'timeout'` (OcspTransportError), or an EnvironmentError.
 */
export function isEnvironmentFault(e: unknown, depth = 0): boolean {
  if (depth > 5 || !e || typeof e !== 'object') return false;
  if (e instanceof EnvironmentError) return true;
  const code = errorCode(e);
  if (code && ENVIRONMENT_CODES.has(code)) return true;
  const name = (e as { name?: unknown }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return true;
  // Client libraries of simulators/lib (e.g. OcspTransportError) say `kind: 'network' | 'timeout'`.
  const kind = (e as { kind?: unknown }).kind;
  if (kind === 'network' || kind === 'timeout') return true;
  if (e instanceof AggregateError && e.errors.some((x) => isEnvironmentFault(x, depth + 1))) return true;
  const cause = (e as { cause?: unknown }).cause;
  if (cause !== undefined) return isEnvironmentFault(cause, depth + 1);
  return false;
}

/** The most specific human-readable reason of an error chain ("connect ECONNREFUSED 127.0.0.1:8440"). */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur instanceof Error; i++) {
    if (cur instanceof AggregateError && cur.errors.length > 0 && !cur.message) {
      parts.push(cur.errors.map((x) => (x instanceof Error ? x.message : String(x))).join('; '));
    } else if (cur.message) {
      parts.push(cur.message);
    }
    cur = cur.cause;
  }
  const kept: string[] = [];
  for (const p of parts) if (!kept.some((k) => k.includes(p))) kept.push(p);
  return kept.join(': ') || e.name;
}

/** True for node:assert's AssertionError and our ConformanceAssertionError. */
export function isAssertionFailure(e: unknown): boolean {
  if (e instanceof ConformanceAssertionError) return true;
  return e instanceof Error && (e.name === 'AssertionError' || e.constructor.name === 'AssertionError');
}

/**
 * Keeps the message and stack of a non-conformance error from matching
 * /assert/i, which allure-js-commons would read as a conformance failure: a
 * zero-width space goes between "as" and "sert" (the text still reads the same).
 * Only EnvironmentError and TestDefectError apply it.
 */
export function neutralise(text: string): string {
  return text.replace(/(as)(sert)/gi, '$1\u200B$2');
}

export type FailureKind = 'failed' | 'broken';

/**
 * Classification of a failed Cucumber step from its `exception.type`, the
 * same rule Allure applies (see the module comment): conformance → failed,
 * anything else → broken. Used by the traceability report for scenarios.
 */
export function failureKindOfType(exceptionType: string | undefined, message?: string): FailureKind {
  if (exceptionType && /assert|expectation/i.test(exceptionType)) return 'failed';
  if (!exceptionType && message && /assert/i.test(message)) return 'failed';
  return 'broken';
}
