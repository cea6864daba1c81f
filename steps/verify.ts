/**
 * verify(afoId, description, check): the one way a step checks something
 * (DESIGN §3 "Assertion-level traceability").
 *
 *   await verify('A_18498', 'Der Fachdienst antwortet mit 201', () => res.status === 201);
 *
 * - `afoId` must be a requirement or an infrastructure check of the catalogue;
 *   otherwise verify() throws at once (TestDefectError) and records nothing.
 * - The check holds when it returns (or resolves to) anything but `false` and
 *   throws nothing. `false` or a thrown assertion (node:assert) is a
 *   conformance failure: recorded `failed`, thrown as ConformanceAssertionError
 *   (Allure: failed). A network fault/timeout inside the check is recorded
 *   `broken` and thrown as EnvironmentError; any other exception (the check
 *   could not be evaluated) is recorded `broken` and thrown as TestDefectError
 *   (Allure: broken for both).
 * - Every call appends one record to reports/out/results/verify-<pid>.ndjson
 *   (one file per Cucumber worker process: parallel-safe) and shows in Allure
 *   as a step "A_18498: <description>"; the scenario gets a `requirement` link
 *   to the id.
 * - Always `await` it: the After gate fails a scenario whose verify() calls
 *   are still pending when its step ends.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as allure from 'allure-js-commons';
import { projectCatalogue } from '../reports/trace/catalogue-view';
import { OUTPUT } from '../reports/paths';
import {
  ConformanceAssertionError,
  EnvironmentError,
  TestDefectError,
  describeError,
  isAssertionFailure,
  isEnvironmentFault,
} from './support/errors';

export type VerifyCheck = () => boolean | void | Promise<boolean | void>;
export type VerifyStatus = 'passed' | 'failed' | 'broken';
export type VerifyTargetKind = 'requirement' | 'infrastructure';

/** The scenario a record belongs to (ids are those of the run's Cucumber messages). */
export interface ScenarioRef {
  /** Cucumber pickle id. */
  id: string;
  name: string;
  uri: string;
  line: number;
  tags: string[];
  /** Cucumber testCaseStarted id of this attempt: joins records with messages.ndjson. */
  testCaseStartedId?: string;
}

/** One line of verify-<pid>.ndjson (docs/trace-json.md, "Verify records"). */
export interface VerifyRecord {
  afoId: string;
  kind: VerifyTargetKind;
  description: string;
  status: VerifyStatus;
  error?: { type: string; message: string };
  scenario: ScenarioRef;
  /** ISO 8601, when the check started. */
  timestamp: string;
  durationMs: number;
  pid: number;
}

/** How verify() shows up in the test report (Allure by default; a fake in unit tests). */
export interface VerifyReporter {
  step(name: string, body: () => Promise<void>): Promise<void>;
  requirementLink(afoId: string): Promise<void>;
}

export interface VerifierOptions {
  /** 'requirement' | 'infrastructure' for a catalogue id, undefined for unknown ids. */
  classify(afoId: string): VerifyTargetKind | undefined;
  /** Receives each record once the check has finished. */
  sink(record: VerifyRecord): void;
  reporter: VerifyReporter;
  now?: () => number;
}

export interface ScenarioState {
  ref: ScenarioRef;
  records: VerifyRecord[];
  /** verify() calls started and not yet finished. */
  pending: number;
  /** Requirement ids already linked in the report for this scenario. */
  linked: Set<string>;
  /** Incremented by abandonPending(); a check that finishes in a later generation was not awaited. */
  generation: number;
}

export class Verifier {
  private state: ScenarioState | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: VerifierOptions) {
    this.now = opts.now ?? Date.now;
  }

  beginScenario(ref: ScenarioRef): ScenarioState {
    this.state = { ref, records: [], pending: 0, linked: new Set(), generation: 0 };
    return this.state;
  }

  endScenario(): ScenarioState | undefined {
    const s = this.state;
    this.state = undefined;
    return s;
  }

  get current(): ScenarioState | undefined {
    return this.state;
  }

  /** Adds a `requirement` link per id to the current scenario's report, once each. */
  async linkRequirements(ids: readonly string[]): Promise<void> {
    const s = this.state;
    if (!s) return;
    for (const id of ids) {
      if (s.linked.has(id)) continue;
      s.linked.add(id);
      await this.opts.reporter.requirementLink(id);
    }
  }

  /**
   * Throws synchronously (TestDefectError) for an unknown id, a missing
   * description or a call outside a scenario; otherwise runs the check.
   */
  verify(afoId: string, description: string, check: VerifyCheck): Promise<void> {
    const s = this.state;
    if (!s) throw new TestDefectError(`verify(${afoId}) called outside a running scenario`);
    const kind = this.opts.classify(afoId);
    if (!kind) {
      throw new TestDefectError(`verify(): "${afoId}" is neither a requirement nor an infrastructure check of the catalogue`);
    }
    if (typeof description !== 'string' || description.trim() === '') {
      throw new TestDefectError(`verify(${afoId}): the description must say what is checked`);
    }
    if (typeof check !== 'function') throw new TestDefectError(`verify(${afoId}): check must be a function`);
    s.pending++;
    return this.run(s, afoId, kind, description, check);
  }

  /**
   * Marks the current scenario's running verify() calls as abandoned (their
   * step ended without awaiting them): when they finish, their result is
   * recorded `broken` and neither reported nor thrown (nothing can catch it).
   */
  abandonPending(): void {
    if (this.state) this.state.generation++;
  }

  private async run(s: ScenarioState, afoId: string, kind: VerifyTargetKind, description: string, check: VerifyCheck): Promise<void> {
    const generation = s.generation;
    const started = this.now();
    let outcome: Error | undefined;
    try {
      await this.linkRequirements([afoId]);
      try {
        const result = await check();
        if (result === false) outcome = new ConformanceAssertionError(afoId, `${afoId} not met: ${description}`);
      } catch (e) {
        outcome = classifyCheckError(afoId, description, e);
      }
    } finally {
      s.pending--;
    }
    const abandoned = this.state !== s || s.generation !== generation;
    if (abandoned) {
      outcome = new TestDefectError(
        `verify(${afoId}) was not awaited and finished after its step; result discarded (${outcome ? outcome.message : 'the check held'})`,
      );
    }

    const status: VerifyStatus = !outcome ? 'passed' : outcome instanceof ConformanceAssertionError ? 'failed' : 'broken';
    const record: VerifyRecord = {
      afoId,
      kind,
      description,
      status,
      ...(outcome ? { error: { type: outcome.name, message: outcome.message } } : {}),
      scenario: s.ref,
      timestamp: new Date(started).toISOString(),
      durationMs: Math.max(0, this.now() - started),
      pid: process.pid,
    };
    s.records.push(record);
    this.opts.sink(record);
    if (abandoned) return;

    // Reported once the check is done (so a report never outlives its step); the step's
    // status comes from the same error the scenario fails with.
    await this.opts.reporter.step(`${afoId}: ${description}`, async () => {
      if (outcome) throw outcome;
    }).catch((e: unknown) => {
      if (e !== outcome) throw e;
    });
    if (outcome) throw outcome;
  }
}

/** Maps whatever a check threw onto the failure taxonomy (support/errors.ts). */
export function classifyCheckError(afoId: string, description: string, e: unknown): Error {
  if (e instanceof ConformanceAssertionError) return e;
  if (isAssertionFailure(e)) {
    const a = e as Error & { actual?: unknown; expected?: unknown };
    const err = new ConformanceAssertionError(afoId, `${afoId} not met: ${description}: ${a.message}`, { cause: e });
    if ('actual' in a) Object.assign(err, { actual: a.actual });
    if ('expected' in a) Object.assign(err, { expected: a.expected });
    return err;
  }
  if (isEnvironmentFault(e)) {
    return new EnvironmentError(`${afoId} could not be checked (${description}): environment fault: ${describeError(e)}`, { cause: e });
  }
  const type = e instanceof Error ? e.constructor.name : typeof e;
  return new TestDefectError(
    `${afoId} could not be checked (${description}): the check threw ${type}: ${describeError(e)} ` +
      '(a check reports non-conformance by returning false or failing an assertion)',
    { cause: e },
  );
}

/** Appends records to <dir>/verify-<pid>.ndjson (append-only; one file per process). */
export function fileSink(dir: string): (record: VerifyRecord) => void {
  const file = path.join(dir, `verify-${process.pid}.ndjson`);
  let ready = false;
  return (record) => {
    if (!ready) {
      fs.mkdirSync(dir, { recursive: true });
      ready = true;
    }
    fs.appendFileSync(file, `${JSON.stringify(record)}\n`);
  };
}

/** verify() as Allure steps and links (allure-js-commons runtime API, set up by allure-cucumberjs). */
export const allureReporter: VerifyReporter = {
  step: async (name, body) => {
    await allure.step(name, body);
  },
  requirementLink: async (afoId) => {
    await allure.link(afoId, afoId, 'requirement');
  },
};

/** Known-id lookup over the project catalogue. */
export function catalogueClassifier(): (afoId: string) => VerifyTargetKind | undefined {
  return (afoId) => {
    const c = projectCatalogue();
    if (c.isKnownRequirement(afoId)) return 'requirement';
    if (c.isKnownInfrastructureCheck(afoId)) return 'infrastructure';
    return undefined;
  };
}

let defaultVerifier: Verifier | undefined;

/**
 * The process-wide verifier the hooks and steps use (one scenario at a time per
 * Cucumber worker). Records go to reports/out/results, or to $TI_VERIFY_RESULTS_DIR.
 */
export function verifier(): Verifier {
  const dir = process.env.TI_VERIFY_RESULTS_DIR || OUTPUT.results;
  defaultVerifier ??= new Verifier({ classify: catalogueClassifier(), sink: fileSink(dir), reporter: allureReporter });
  return defaultVerifier;
}

/** Checks one requirement (see the module comment). */
export function verify(afoId: string, description: string, check: VerifyCheck): Promise<void> {
  return verifier().verify(afoId, description, check);
}
