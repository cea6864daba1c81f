/** trace.md: the traceability report as Markdown (for reviews and merge requests). */
import type { AssertionCounts, ScenarioLink, TraceReport } from './model';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const ac = (c: AssertionCounts) => `${c.passed} ✓ / ${c.failed} ✗${c.broken ? ` / ${c.broken} ⚠` : ''}`;
const scen = (list: ScenarioLink[]) =>
  list.length === 0 ? '–' : list.map((s) => `${s.tcid ?? s.name} (${s.status})`).join(', ');

export function renderMarkdown(t: TraceReport): string {
  const s = t.summary;
  const out: string[] = [];
  out.push('# Traceability report', '');
  out.push(`Generated ${t.generatedAt}${t.catalogue.source ? ` · catalogue: ${t.catalogue.source}` : ''} · schema ${t.schemaVersion}`);
  out.push(`Run: ${t.run.startedAt ?? '?'} → ${t.run.finishedAt ?? '?'}${t.run.success === null ? '' : t.run.success ? ' (success)' : ' (failed)'}`, '');
  out.push('## Summary', '');
  out.push(`- Executable requirements covered: **${s.executable.covered} / ${s.executable.total} (${s.executable.coveredPercent} %)** — ${s.executable.passed} passed, ${s.executable.failed} failed, ${s.executable.untested} untested`);
  out.push(`- Requirements (${s.requirements.total}): ${s.requirements.passed} passed, ${s.requirements.failed} failed, ${s.requirements.untested} untested, ${s.requirements.documented} documented`);
  out.push(`- Use cases (${s.useCases.total}): ${s.useCases.passed} passed, ${s.useCases.partial} partial, ${s.useCases.failed} failed, ${s.useCases.untested} untested, ${s.useCases.documented} documented`);
  out.push(`- Infrastructure checks (${s.infrastructure.total}, not counted above): ${s.infrastructure.passed} passed, ${s.infrastructure.failed} failed, ${s.infrastructure.untested} untested`);
  out.push(`- Scenarios (${s.scenarios.total}): ${s.scenarios.passed} passed, ${s.scenarios.failed} failed, ${s.scenarios.broken} broken, ${s.scenarios.skipped} skipped, ${s.scenarios['not-run']} not run`);
  out.push(`- Assertions (${s.assertions.total}): ${s.assertions.passed} passed, ${s.assertions.failed} failed, ${s.assertions.broken} broken`);
  if (t.run.errors.length) out.push('', '**Run errors:**', ...t.run.errors.map((e) => `- ${cell(e)}`));
  out.push('');

  out.push('## Requirements', '');
  out.push('| ID | Title | Chapter | Class | Status | Assertions | Scenarios |');
  out.push('|---|---|---|---|---|---|---|');
  for (const r of t.requirements) {
    out.push(`| <a id="${r.id}"></a>${r.id} | ${cell(r.title)} | ${r.chapter.number} | ${r.classification} | **${r.status}** | ${ac(r.assertionCounts)} | ${cell(scen(r.scenarios))} |`);
  }
  out.push('');

  out.push('## Use cases', '');
  out.push('| ID | Name | Status | Requirements (passed/failed/untested/documented) | Assertions | Scenarios |');
  out.push('|---|---|---|---|---|---|');
  for (const u of t.useCases) {
    const rs = u.requirementStatus;
    out.push(`| <a id="${u.id}"></a>${u.id} | ${cell(u.name)} | **${u.status}** | ${rs.passed}/${rs.failed}/${rs.untested}/${rs.documented} | ${ac(u.assertionCounts)} | ${cell(scen(u.scenarios))} |`);
  }
  out.push('');

  out.push('## Infrastructure checks', '', 'Checks of the harness\'s own simulated TI; not part of the requirement coverage.', '');
  out.push('| ID | Title | Source | Status | Assertions | Scenarios |');
  out.push('|---|---|---|---|---|---|');
  for (const i of t.infrastructure) {
    out.push(`| <a id="${i.id}"></a>${i.id} | ${cell(i.title)} | ${cell(i.source)} | **${i.status}** | ${ac(i.assertionCounts)} | ${cell(scen(i.scenarios))} |`);
  }
  out.push('');

  out.push('## Scenarios', '');
  out.push('| TCID | Scenario | Status | AFO-IDs | Verified |');
  out.push('|---|---|---|---|---|');
  for (const sc of t.scenarios) {
    const verified = sc.assertions.map((a) => `${a.afoId} ${a.status === 'passed' ? '✓' : a.status === 'failed' ? '✗' : '⚠'}`).join(', ') || '–';
    out.push(`| ${sc.tcid ?? '–'} | ${cell(sc.name)} (${sc.uri}:${sc.line}) | **${sc.status}**${sc.message ? `: ${cell(sc.message)}` : ''} | ${sc.afoIds.join(', ')} | ${verified} |`);
  }
  if (t.warnings.length) {
    out.push('', '## Warnings', '', ...t.warnings.map((w) => `- ${cell(w)}`));
  }
  out.push('');
  return out.join('\n');
}
