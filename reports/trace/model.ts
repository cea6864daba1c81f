/**
 * The traceability model (trace.json, schemaVersion 1; docs/trace-json.md)
 * and the status rules, as a pure function of catalogue, scenario results,
 * verify records and the feature files.
 *
 * "Scenario tags say what a scenario is about; verify records say what was
 * actually proven." Only verify records of the run's final attempts decide a
 * status; a tag alone never makes a requirement tested.
 *
 * Requirement / infrastructure check:
 *   documented  classified `documented` in the catalogue (requirements only;
 *               records, if any, are still listed, with a warning)
 *   failed      at least one record for the id failed
 *   passed      at least one record passed and none failed
 *   untested    otherwise (no records, or only broken ones: an environment
 *               fault proves nothing either way)
 * Use case (scope: records of scenarios tagged @UC:<id>, plus records of
 * requirements whose catalogue useCase is <id>):
 *   failed      a record in scope failed
 *   documented  no passed/failed record, and all of its requirements are documented
 *   untested    no passed record in scope
 *   passed      passed records, none failed, and every executable requirement of the use case passed
 *   partial     passed records, none failed, but some executable requirement of it is not passed
 * Coverage: executable requirements with status passed or failed ("covered",
 * i.e. a verdict exists) over all executable requirements.
 */
import type { VerifyRecord, VerifyStatus } from '../../steps/verify';
import type { CatalogueView } from './catalogue-view';
import type { FeatureScenario } from './gherkin';
import type { MessagesResult, ScenarioRunStatus } from './messages';
import { NO_USE_CASE, tagValues } from './vocabulary';

export const TRACE_SCHEMA_VERSION = 1 as const;

export type TraceStatus = 'passed' | 'failed' | 'untested' | 'documented';
export type UseCaseStatus = TraceStatus | 'partial';
export type ScenarioStatus = ScenarioRunStatus | 'not-run';

export interface AssertionCounts {
  passed: number;
  failed: number;
  broken: number;
}

export interface ScenarioLink {
  key: string;
  tcid: string | null;
  name: string;
  uri: string;
  line: number;
  status: ScenarioStatus;
}

export interface AssertionEntry {
  afoId: string;
  description: string;
  status: VerifyStatus;
  error?: string;
  scenario: ScenarioLink;
  timestamp: string;
}

export interface RequirementTrace {
  id: string;
  title: string;
  chapter: { number: string; title: string };
  classification: 'executable' | 'documented';
  justification?: string;
  useCase: string | null;
  status: TraceStatus;
  /** Scenarios tagged @AFO-ID:<id> (run or not). */
  scenarios: ScenarioLink[];
  assertionCounts: AssertionCounts;
  assertions: AssertionEntry[];
}

export interface InfrastructureTrace {
  id: string;
  title: string;
  source: string;
  status: Exclude<TraceStatus, 'documented'>;
  scenarios: ScenarioLink[];
  assertionCounts: AssertionCounts;
  assertions: AssertionEntry[];
}

export interface UseCaseTrace {
  id: string;
  name: string;
  status: UseCaseStatus;
  requirementIds: string[];
  requirementStatus: Record<TraceStatus, number>;
  scenarios: ScenarioLink[];
  assertionCounts: AssertionCounts;
}

export interface ScenarioTrace extends ScenarioLink {
  feature?: string;
  tags: string[];
  afoIds: string[];
  useCases: string[];
  message?: string;
  errorType?: string;
  attempts: number;
  assertions: { afoId: string; description: string; status: VerifyStatus; error?: string }[];
}

export interface TraceSummary {
  executable: { total: number; covered: number; coveredPercent: number; passed: number; failed: number; untested: number };
  requirements: Record<TraceStatus, number> & { total: number };
  infrastructure: Record<Exclude<TraceStatus, 'documented'>, number> & { total: number };
  useCases: Record<UseCaseStatus, number> & { total: number };
  /** `total` counts every scenario of the feature files and the run; `run` those that ran (total − not-run). */
  scenarios: Record<ScenarioStatus, number> & { total: number; run: number };
  assertions: AssertionCounts & { total: number };
}

export interface TraceReport {
  schemaVersion: typeof TRACE_SCHEMA_VERSION;
  generatedAt: string;
  run: {
    startedAt: string | null;
    finishedAt: string | null;
    success: boolean | null;
    cucumberVersion: string | null;
    nodeVersion: string | null;
    errors: string[];
  };
  catalogue: { source: string | null; requirements: number; executable: number; documented: number; useCases: number; infrastructure: number };
  summary: TraceSummary;
  requirements: RequirementTrace[];
  useCases: UseCaseTrace[];
  infrastructure: InfrastructureTrace[];
  scenarios: ScenarioTrace[];
  /** Inconsistencies worth a look (untagged verifications, ignored records, …). */
  warnings: string[];
}

export interface TraceInputs {
  catalogue: CatalogueView;
  /** e.g. "gemSysL_eRp 1.1.0" */
  catalogueSource?: string;
  messages: MessagesResult;
  records: VerifyRecord[];
  recordProblems?: string[];
  features?: FeatureScenario[];
  generatedAt?: Date;
}

const scenarioKey = (uri: string, line: number) => `${uri}:${line}`;

function counts(records: readonly { status: VerifyStatus }[]): AssertionCounts {
  const c: AssertionCounts = { passed: 0, failed: 0, broken: 0 };
  for (const r of records) c[r.status]++;
  return c;
}

/** The verdict of a set of records (see the module comment). */
export function verdict(c: AssertionCounts): 'passed' | 'failed' | 'untested' {
  if (c.failed > 0) return 'failed';
  if (c.passed > 0) return 'passed';
  return 'untested';
}

function percent(n: number, d: number): number {
  return d === 0 ? 0 : Math.round((n / d) * 1000) / 10;
}

export function buildTrace(input: TraceInputs): TraceReport {
  const { catalogue, messages } = input;
  const warnings: string[] = [...(input.recordProblems ?? []).map((p) => `unreadable verify record: ${p}`)];

  // --- scenarios: the run's, plus feature-file scenarios that did not run
  const scenarios = new Map<string, ScenarioTrace>();
  const byAttempt = new Map<string, ScenarioTrace>();
  const retried = new Set<string>();
  const byPickle = new Map<string, ScenarioTrace>();
  for (const s of messages.scenarios) {
    const key = scenarioKey(s.uri, s.line);
    const t: ScenarioTrace = {
      key,
      tcid: tagValues(s.tags, 'TCID')[0] ?? null,
      name: s.name,
      uri: s.uri,
      line: s.line,
      status: s.status,
      tags: s.tags,
      afoIds: [...new Set(tagValues(s.tags, 'AFO-ID'))],
      useCases: [...new Set(tagValues(s.tags, 'UC'))],
      ...(s.message ? { message: s.message } : {}),
      ...(s.errorType ? { errorType: s.errorType } : {}),
      attempts: s.attempts,
      assertions: [],
    };
    scenarios.set(key, t);
    byAttempt.set(s.testCaseStartedId, t);
    byPickle.set(s.pickleId, t);
    for (const id of s.retriedAttemptIds) retried.add(id);
  }
  for (const f of input.features ?? []) {
    const key = scenarioKey(f.uri, f.line);
    const existing = scenarios.get(key);
    if (existing) {
      existing.feature = f.feature;
      continue;
    }
    scenarios.set(key, {
      key,
      tcid: tagValues(f.tags, 'TCID')[0] ?? null,
      name: f.name,
      uri: f.uri,
      line: f.line,
      status: 'not-run',
      feature: f.feature,
      tags: f.tags,
      afoIds: [...new Set(tagValues(f.tags, 'AFO-ID'))],
      useCases: [...new Set(tagValues(f.tags, 'UC'))],
      attempts: 0,
      assertions: [],
    });
  }
  const link = (s: ScenarioTrace): ScenarioLink => ({ key: s.key, tcid: s.tcid, name: s.name, uri: s.uri, line: s.line, status: s.status });

  // --- records of final attempts, attached to their scenarios
  const assertionsById = new Map<string, AssertionEntry[]>();
  let stale = 0;
  let superseded = 0;
  for (const r of input.records) {
    const sid = r.scenario.testCaseStartedId;
    if (sid && retried.has(sid)) {
      superseded++;
      continue;
    }
    const s = (sid ? byAttempt.get(sid) : undefined) ?? (!sid ? byPickle.get(r.scenario.id) : undefined);
    if (!s) {
      stale++;
      continue;
    }
    const known = catalogue.isKnownRequirement(r.afoId) || catalogue.isKnownInfrastructureCheck(r.afoId);
    if (!known) {
      warnings.push(`verify record for unknown id ${r.afoId} in ${s.uri}:${s.line} ignored`);
      continue;
    }
    const entry: AssertionEntry = {
      afoId: r.afoId,
      description: r.description,
      status: r.status,
      ...(r.error ? { error: `${r.error.type}: ${r.error.message}` } : {}),
      scenario: link(s),
      timestamp: r.timestamp,
    };
    s.assertions.push({ afoId: r.afoId, description: r.description, status: r.status, ...(entry.error ? { error: entry.error } : {}) });
    assertionsById.set(r.afoId, [...(assertionsById.get(r.afoId) ?? []), entry]);
    if (!s.afoIds.includes(r.afoId)) {
      warnings.push(`${r.afoId} verified in ${s.uri}:${s.line} "${s.name}" without an @AFO-ID:${r.afoId} tag`);
    }
  }
  if (stale > 0) warnings.push(`${stale} verify record(s) belong to no scenario of this run (older runs?) and were ignored`);
  if (superseded > 0) warnings.push(`${superseded} verify record(s) of retried attempts were ignored`);
  for (const s of scenarios.values()) {
    if (s.status === 'passed' && s.assertions.length === 0) {
      warnings.push(`${s.uri}:${s.line} "${s.name}" passed without any verify record`);
    }
  }

  const scenarioList = [...scenarios.values()].sort((a, b) => a.uri.localeCompare(b.uri) || a.line - b.line);
  const taggedBy = (id: string) => scenarioList.filter((s) => s.afoIds.includes(id)).map(link);

  // --- requirements
  const requirements: RequirementTrace[] = catalogue.requirements.map((req) => {
    const assertions = assertionsById.get(req.id) ?? [];
    const c = counts(assertions);
    const status: TraceStatus = req.classification === 'documented' ? 'documented' : verdict(c);
    if (req.classification === 'documented' && assertions.length > 0) {
      warnings.push(`${req.id} is classified documented but has ${assertions.length} verify record(s)`);
    }
    return {
      id: req.id,
      title: req.title,
      chapter: { number: req.chapter.number, title: req.chapter.title },
      classification: req.classification,
      ...(req.justification ? { justification: req.justification } : {}),
      useCase: req.useCase,
      status,
      scenarios: taggedBy(req.id),
      assertionCounts: c,
      assertions,
    };
  });
  const reqStatus = new Map(requirements.map((r) => [r.id, r.status]));

  // --- infrastructure checks
  const infrastructure: InfrastructureTrace[] = catalogue.infrastructure.map((chk) => {
    const assertions = assertionsById.get(chk.id) ?? [];
    const c = counts(assertions);
    return { id: chk.id, title: chk.title, source: chk.source, status: verdict(c), scenarios: taggedBy(chk.id), assertionCounts: c, assertions };
  });

  // --- use cases
  const useCases: UseCaseTrace[] = catalogue.useCases.map((uc) => {
    const reqs = catalogue.requirements.filter((r) => r.useCase === uc.id);
    const reqIds = new Set(reqs.map((r) => r.id));
    const tagged = scenarioList.filter((s) => s.useCases.includes(uc.id));
    const inScope: { status: VerifyStatus }[] = [];
    const seen = new Set<AssertionEntry>();
    for (const [id, list] of assertionsById) {
      for (const a of list) {
        const viaTag = tagged.some((s) => s.key === a.scenario.key);
        if ((viaTag || reqIds.has(id)) && !seen.has(a)) {
          seen.add(a);
          inScope.push(a);
        }
      }
    }
    const c = counts(inScope);
    const requirementStatus: Record<TraceStatus, number> = { passed: 0, failed: 0, untested: 0, documented: 0 };
    for (const r of reqs) requirementStatus[reqStatus.get(r.id) ?? 'untested']++;
    const executable = reqs.filter((r) => r.classification === 'executable');
    let status: UseCaseStatus;
    if (c.failed > 0) status = 'failed';
    else if (c.passed === 0) status = reqs.length > 0 && executable.length === 0 ? 'documented' : 'untested';
    else status = executable.every((r) => reqStatus.get(r.id) === 'passed') ? 'passed' : 'partial';
    return {
      id: uc.id,
      name: uc.name,
      status,
      requirementIds: reqs.map((r) => r.id),
      requirementStatus,
      scenarios: tagged.map(link),
      assertionCounts: c,
    };
  });

  for (const s of scenarioList) {
    for (const uc of s.useCases) {
      if (uc !== NO_USE_CASE && !catalogue.isKnownUseCase(uc)) warnings.push(`${s.uri}:${s.line} tags unknown use case @UC:${uc}`);
    }
  }

  // --- summary
  const executableReqs = requirements.filter((r) => r.classification === 'executable');
  const exPassed = executableReqs.filter((r) => r.status === 'passed').length;
  const exFailed = executableReqs.filter((r) => r.status === 'failed').length;
  const tally = <K extends string>(keys: readonly K[], values: readonly K[]) => {
    const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
    for (const v of values) out[v]++;
    return { ...out, total: values.length };
  };
  const allAssertions = [...assertionsById.values()].flat();
  const summary: TraceSummary = {
    executable: {
      total: executableReqs.length,
      covered: exPassed + exFailed,
      coveredPercent: percent(exPassed + exFailed, executableReqs.length),
      passed: exPassed,
      failed: exFailed,
      untested: executableReqs.length - exPassed - exFailed,
    },
    requirements: tally(['passed', 'failed', 'untested', 'documented'] as const, requirements.map((r) => r.status)),
    infrastructure: tally(['passed', 'failed', 'untested'] as const, infrastructure.map((r) => r.status)),
    useCases: tally(['passed', 'partial', 'failed', 'untested', 'documented'] as const, useCases.map((u) => u.status)),
    scenarios: (() => {
      const t = tally(
        ['passed', 'failed', 'broken', 'skipped', 'pending', 'undefined', 'ambiguous', 'unknown', 'not-run'] as const,
        scenarioList.map((s) => s.status),
      );
      return { ...t, run: t.total - t['not-run'] };
    })(),
    assertions: { ...counts(allAssertions), total: allAssertions.length },
  };

  return {
    schemaVersion: TRACE_SCHEMA_VERSION,
    generatedAt: (input.generatedAt ?? new Date()).toISOString(),
    run: {
      startedAt: messages.run.startedAt ?? null,
      finishedAt: messages.run.finishedAt ?? null,
      success: messages.run.success ?? null,
      cucumberVersion: messages.run.cucumberVersion ?? null,
      nodeVersion: messages.run.nodeVersion ?? null,
      errors: messages.run.errors,
    },
    catalogue: {
      source: input.catalogueSource ?? null,
      requirements: catalogue.requirements.length,
      executable: executableReqs.length,
      documented: catalogue.requirements.length - executableReqs.length,
      useCases: catalogue.useCases.length,
      infrastructure: catalogue.infrastructure.length,
    },
    summary,
    requirements,
    useCases,
    infrastructure,
    scenarios: scenarioList,
    warnings,
  };
}
