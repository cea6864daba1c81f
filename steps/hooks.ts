/**
 * Cucumber hooks of the harness.
 *
 *  BeforeAll   the static tag gate (reports/trace/gates.ts) over all feature
 *              files (features/, or $TI_FEATURES_DIR): a run with tag errors
 *              stops before any scenario runs.
 *  Before      opens the scenario context for verify() (pickle, attempt id).
 *  BeforeStep  first step only: Allure metadata from the tags (named
 *              `requirement` links, testCaseId = @TCID, epic = use case).
 *  AfterStep   fails the step if a verify() call was not awaited; on the last
 *              step of a passing scenario: "a scenario with no verify call
 *              fails" (done here and not in After because Allure derives a
 *              test's status from its steps only: a failing After hook would
 *              leave the test green in Allure).
 *  After       closes the context; fallback of the same gate for scenarios
 *              that never reached a step.
 */
import 'allure-cucumberjs'; // sets the Allure runtime for allure-js-commons in this (worker) process
import * as path from 'node:path';
import * as allure from 'allure-js-commons';
import { After, AfterStep, Before, BeforeAll, BeforeStep, Status, setDefaultTimeout, type ITestCaseHookParameter } from '@cucumber/cucumber';
import { projectCatalogue } from '../reports/trace/catalogue-view';
import { checkFeatureTags, formatGateResult } from '../reports/trace/gates';
import { NO_USE_CASE, tagValues } from '../reports/trace/vocabulary';
import { TestDefectError } from './support/errors';
import { verifier, type ScenarioRef } from './verify';
import type { TiWorld } from './world';

const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Steps wait for real services; 30 s per step is generous, the HTTP helper's own timeout is 10 s. */
setDefaultTimeout(30_000);

export const NO_VERIFY_MESSAGE =
  'scenario made no verify() call: nothing was proven. Every check of a scenario goes through ' +
  'verify(afoId, description, check) (docs/writing-features.md).';

BeforeAll({ name: 'Tag-Gate' }, function () {
  const featuresDir = path.resolve(PROJECT_ROOT, process.env.TI_FEATURES_DIR || 'features');
  const result = checkFeatureTags(featuresDir, projectCatalogue(), PROJECT_ROOT);
  if (result.errors.length > 0) {
    process.stderr.write(formatGateResult(result));
    throw new TestDefectError(`feature tag gate: ${result.errors.length} error(s), listed above; no scenario runs`);
  }
});

function scenarioRef(p: ITestCaseHookParameter): ScenarioRef {
  const { pickle } = p;
  let line = pickle.location?.line ?? 0;
  if (!line) {
    for (const child of p.gherkinDocument.feature?.children ?? []) {
      const scenarios = child.rule ? child.rule.children.map((c) => c.scenario) : [child.scenario];
      for (const sc of scenarios) if (sc && sc.id === pickle.astNodeIds[0]) line = sc.location.line;
    }
  }
  return {
    id: pickle.id,
    name: pickle.name,
    uri: pickle.uri,
    line,
    tags: pickle.tags.map((t) => t.name),
    testCaseStartedId: p.testCaseStartedId,
  };
}

Before({ name: 'Szenario-Kontext' }, function (this: TiWorld, p: ITestCaseHookParameter) {
  this.scenario = scenarioRef(p);
  verifier().beginScenario(this.scenario);
});

BeforeStep(async function (this: TiWorld, { pickle, pickleStep }) {
  if (pickleStep.id !== pickle.steps[0]?.id) return;
  const tags = pickle.tags.map((t) => t.name);
  await verifier().linkRequirements(tagValues(tags, 'AFO-ID'));
  const [tcid] = tagValues(tags, 'TCID');
  if (tcid) await allure.testCaseId(tcid);
  for (const uc of tagValues(tags, 'UC')) {
    const name = projectCatalogue().useCases.find((u) => u.id === uc)?.name;
    await allure.epic(uc === NO_USE_CASE ? 'Infrastruktur (ohne Anwendungsfall)' : name ? `${uc} ${name}` : uc);
  }
});

AfterStep(function (this: TiWorld, { pickle, pickleStep, result }) {
  const state = verifier().current;
  if (state && state.pending > 0) {
    verifier().abandonPending();
    throw new TestDefectError(`${state.pending} verify() call(s) still running when the step ended: await verify(…)`);
  }
  const isLast = pickleStep.id === pickle.steps[pickle.steps.length - 1]?.id;
  if (isLast && result?.status === Status.PASSED && (state?.records.length ?? 0) === 0) {
    throw new TestDefectError(NO_VERIFY_MESSAGE);
  }
});

After({ name: 'Szenario-Abschluss' }, function (this: TiWorld, { result, pickle }) {
  const state = verifier().endScenario();
  if (pickle.steps.length === 0 && result?.status === Status.PASSED && (state?.records.length ?? 0) === 0) {
    throw new TestDefectError(NO_VERIFY_MESSAGE);
  }
});
