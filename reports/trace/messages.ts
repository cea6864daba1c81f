/**
 * Scenario results from a Cucumber messages file (NDJSON, `--format message:…`).
 *
 * Only the final attempt of a scenario counts (an attempt whose
 * testCaseFinished says willBeRetried is superseded). A scenario's status is
 * the worst of its steps and hooks (Cucumber's order: passed < skipped <
 * pending < undefined < ambiguous < failed); a failed one is split into
 * `failed` (conformance) and `broken` (everything else) by the exception type
 * of its first failed step, the same rule Allure applies
 * (steps/support/errors.ts failureKindOfType).
 */
import * as fs from 'node:fs';
import { failureKindOfType } from '../../steps/support/errors';

export type ScenarioRunStatus = 'passed' | 'failed' | 'broken' | 'skipped' | 'pending' | 'undefined' | 'ambiguous' | 'unknown';

export interface ScenarioRun {
  pickleId: string;
  /** testCaseStarted id of the final attempt: verify records join on it. */
  testCaseStartedId: string;
  /** Ids of attempts that were retried (their verify records do not count). */
  retriedAttemptIds: string[];
  name: string;
  uri: string;
  line: number;
  tags: string[];
  status: ScenarioRunStatus;
  /** First line of the first failure's message. */
  message?: string;
  /** Exception type of the first failed step or hook. */
  errorType?: string;
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
}

export interface RunInfo {
  startedAt?: string;
  finishedAt?: string;
  success?: boolean;
  cucumberVersion?: string;
  nodeVersion?: string;
  /** Errors outside scenarios: failed BeforeAll/AfterAll hooks, run-level exceptions. */
  errors: string[];
}

export interface MessagesResult {
  run: RunInfo;
  scenarios: ScenarioRun[];
}

interface Timestamp {
  seconds: number | string;
  nanos: number;
}

function iso(t: Timestamp | undefined): string | undefined {
  if (!t) return undefined;
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6)).toISOString();
}

const STATUS_RANK: Record<string, number> = {
  UNKNOWN: 0,
  PASSED: 1,
  SKIPPED: 2,
  PENDING: 3,
  UNDEFINED: 4,
  AMBIGUOUS: 5,
  FAILED: 6,
};

interface StepResult {
  status: string;
  message?: string;
  exception?: { type: string; message?: string };
}

interface Attempt {
  id: string;
  testCaseId: string;
  attempt: number;
  startedAt?: string;
  finishedAt?: string;
  finished: boolean;
  willBeRetried: boolean;
  results: StepResult[];
}

function firstLine(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const line = s.split('\n').find((l) => l.trim() !== '');
  return line?.trim().slice(0, 500);
}

/** Parses the NDJSON text of a Cucumber messages file. */
export function parseMessages(ndjson: string): MessagesResult {
  const run: RunInfo = { errors: [] };
  const pickles = new Map<string, { id: string; name: string; uri: string; line: number; tags: string[]; astNodeIds: string[] }>();
  const scenarioLines = new Map<string, number>();
  const testCases = new Map<string, string>(); // testCase id → pickle id
  const attempts = new Map<string, Attempt>();
  const order: string[] = [];

  ndjson.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line) return;
    let env: Record<string, any>;
    try {
      env = JSON.parse(line) as Record<string, any>;
    } catch {
      throw new Error(`Cucumber messages: line ${index + 1} is not JSON`);
    }
    if (env.meta) {
      run.cucumberVersion = env.meta.implementation?.version;
      run.nodeVersion = env.meta.runtime?.version;
    } else if (env.gherkinDocument) {
      const visit = (children: any[] | undefined) => {
        for (const c of children ?? []) {
          if (c.scenario) scenarioLines.set(c.scenario.id, c.scenario.location?.line ?? 0);
          if (c.rule) visit(c.rule.children);
        }
      };
      visit(env.gherkinDocument.feature?.children);
    } else if (env.pickle) {
      const p = env.pickle;
      pickles.set(p.id, {
        id: p.id,
        name: p.name,
        uri: p.uri,
        line: p.location?.line ?? 0,
        tags: (p.tags ?? []).map((t: { name: string }) => t.name),
        astNodeIds: p.astNodeIds ?? [],
      });
    } else if (env.testCase) {
      testCases.set(env.testCase.id, env.testCase.pickleId);
    } else if (env.testCaseStarted) {
      const s = env.testCaseStarted;
      attempts.set(s.id, {
        id: s.id,
        testCaseId: s.testCaseId,
        attempt: s.attempt ?? 0,
        startedAt: iso(s.timestamp),
        finished: false,
        willBeRetried: false,
        results: [],
      });
      order.push(s.id);
    } else if (env.testStepFinished) {
      attempts.get(env.testStepFinished.testCaseStartedId)?.results.push(env.testStepFinished.testStepResult);
    } else if (env.testCaseFinished) {
      const a = attempts.get(env.testCaseFinished.testCaseStartedId);
      if (a) {
        a.finished = true;
        a.willBeRetried = !!env.testCaseFinished.willBeRetried;
        a.finishedAt = iso(env.testCaseFinished.timestamp);
      }
    } else if (env.testRunStarted) {
      run.startedAt = iso(env.testRunStarted.timestamp);
    } else if (env.testRunFinished) {
      const f = env.testRunFinished;
      run.finishedAt = iso(f.timestamp);
      run.success = f.success;
      const msg = firstLine(f.exception?.message ?? f.message);
      if (msg) run.errors.push(msg);
    } else if (env.testRunHookFinished) {
      const r = env.testRunHookFinished.result as StepResult | undefined;
      if (r && r.status === 'FAILED') {
        run.errors.push(`test run hook failed: ${r.exception?.message ?? firstLine(r.message) ?? 'no message'}`);
      }
    }
  });

  // pickle id → its attempts in order
  const byPickle = new Map<string, Attempt[]>();
  for (const id of order) {
    const a = attempts.get(id)!;
    const pickleId = testCases.get(a.testCaseId);
    if (!pickleId) continue;
    byPickle.set(pickleId, [...(byPickle.get(pickleId) ?? []), a]);
  }

  const scenarios: ScenarioRun[] = [];
  for (const [pickleId, list] of byPickle) {
    const p = pickles.get(pickleId);
    if (!p) continue;
    const final = [...list].reverse().find((a) => !a.willBeRetried) ?? list[list.length - 1];
    const { status, message, errorType } = attemptStatus(final);
    scenarios.push({
      pickleId,
      testCaseStartedId: final.id,
      retriedAttemptIds: list.filter((a) => a !== final).map((a) => a.id),
      name: p.name,
      uri: p.uri,
      line: p.line || scenarioLines.get(p.astNodeIds[0]) || 0,
      tags: p.tags,
      status,
      ...(message ? { message } : {}),
      ...(errorType ? { errorType } : {}),
      attempts: list.length,
      startedAt: final.startedAt,
      finishedAt: final.finishedAt,
    });
  }
  return { run, scenarios };
}

function attemptStatus(a: Attempt): { status: ScenarioRunStatus; message?: string; errorType?: string } {
  if (!a.finished) return { status: 'unknown', message: 'the scenario did not finish (run aborted?)' };
  let worst: StepResult | undefined;
  for (const r of a.results) {
    if (!worst || (STATUS_RANK[r.status] ?? 0) > (STATUS_RANK[worst.status] ?? 0)) worst = r;
  }
  if (!worst) return { status: 'passed' };
  switch (worst.status) {
    case 'FAILED': {
      const type = worst.exception?.type;
      return {
        status: failureKindOfType(type, worst.message),
        message: firstLine(worst.exception?.message ?? worst.message),
        errorType: type,
      };
    }
    case 'PASSED':
      return { status: 'passed' };
    case 'SKIPPED':
      return { status: 'skipped' };
    case 'PENDING':
      return { status: 'pending' };
    case 'UNDEFINED':
      return { status: 'undefined', message: 'a step has no definition' };
    case 'AMBIGUOUS':
      return { status: 'ambiguous', message: firstLine(worst.message) };
    default:
      return { status: 'unknown' };
  }
}

/** Reads and parses a messages file; a missing file is an error that says how to produce one. */
export function readMessages(file: string): MessagesResult {
  if (!fs.existsSync(file)) {
    throw new Error(`no Cucumber messages at ${file}: run the features first (ti-harness test)`);
  }
  return parseMessages(fs.readFileSync(file, 'utf8'));
}
