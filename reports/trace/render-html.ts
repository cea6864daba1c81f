/**
 * index.html: the traceability report as one self-contained page (inline CSS
 * and a few lines of script for filtering; no external resources), with an
 * anchor per requirement, use case and infrastructure check (`#A_18498`) so
 * Allure's requirement links land on the row.
 */
import type { AssertionEntry, AssertionCounts, ScenarioLink, TraceReport } from './model';

function esc(s: string | number | null | undefined): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const badge = (status: string) => `<span class="st st-${esc(status)}">${esc(status)}</span>`;

function counts(c: AssertionCounts): string {
  const parts = [`<span class="ok">${c.passed}&nbsp;✓</span>`, `<span class="ko">${c.failed}&nbsp;✗</span>`];
  if (c.broken) parts.push(`<span class="br">${c.broken}&nbsp;⚠</span>`);
  return parts.join(' ');
}

function scenarioList(list: ScenarioLink[]): string {
  if (list.length === 0) return '<span class="muted">–</span>';
  return list
    .map((s) => `<a href="#sc-${esc(encodeURIComponent(s.key))}" title="${esc(`${s.uri}:${s.line}`)}">${esc(s.tcid ?? s.name)}</a>&nbsp;${badge(s.status)}`)
    .join('<br>');
}

function assertionDetails(list: AssertionEntry[]): string {
  if (list.length === 0) return '';
  const items = list
    .map(
      (a) =>
        `<li>${badge(a.status)} ${esc(a.description)} <span class="muted">— ${esc(a.scenario.tcid ?? a.scenario.name)}</span>${
          a.error ? `<div class="err">${esc(a.error)}</div>` : ''
        }</li>`,
    )
    .join('');
  return `<details><summary>${list.length} assertion(s)</summary><ul class="asr">${items}</ul></details>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#0b3d62;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:20px}header .meta{opacity:.85;font-size:12px}
nav{background:#e9eef4;padding:6px 24px;position:sticky;top:0;z-index:2;border-bottom:1px solid #d3dae3}nav a{margin-right:16px;color:#0b3d62;text-decoration:none;font-weight:600}
main{padding:16px 24px}section{background:#fff;border:1px solid #dde1e6;border-radius:6px;margin:0 0 18px;padding:12px 16px}
h2{font-size:16px;margin:4px 0 10px}table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #eceef1;padding:5px 6px;vertical-align:top;text-align:left}
th{background:#f0f2f5;font-weight:600;position:sticky;top:31px}tr:target{background:#fff6cc}tr,section{scroll-margin-top:40px}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #dde1e6;border-radius:6px;padding:8px 12px;min-width:150px;background:#fbfcfd}
.card .big{font-size:22px;font-weight:700}.card .sub{font-size:12px;color:#5b6573}
.st{display:inline-block;border-radius:10px;padding:0 7px;font-size:11px;font-weight:600;color:#fff;background:#8a94a3;white-space:nowrap}
.st-passed{background:#2e8540}.st-failed{background:#c62828}.st-broken{background:#e08a00}.st-untested{background:#8a94a3}
.st-documented{background:#5165a8}.st-partial{background:#7a9a2e}.st-not-run{background:#b7bec8}.st-skipped{background:#9aa3ad}
.ok{color:#2e8540}.ko{color:#c62828}.br{color:#b86e00}.muted{color:#7b8594}.err{color:#8a1c1c;font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap}
.filters{display:flex;gap:8px;align-items:center;flex-wrap:wrap;margin:0 0 10px}.filters input[type=search]{padding:4px 8px;min-width:260px}
.filters label{font-size:12px}ul.asr{margin:4px 0;padding-left:18px}details summary{cursor:pointer;color:#0b5cad}
.warn li{color:#8a5a00}code{font-size:12px}
`;

const SCRIPT = `
document.querySelectorAll('section[data-filterable]').forEach(function(sec){
  var q=sec.querySelector('input[type=search]');var boxes=sec.querySelectorAll('input[type=checkbox]');
  function apply(){var text=(q&&q.value||'').toLowerCase();var on={};boxes.forEach(function(b){on[b.value]=b.checked});
    sec.querySelectorAll('tbody tr').forEach(function(tr){var st=tr.getAttribute('data-status');
      var show=(on[st]!==false)&&(!text||tr.textContent.toLowerCase().indexOf(text)>=0);tr.style.display=show?'':'none'});}
  if(q)q.addEventListener('input',apply);boxes.forEach(function(b){b.addEventListener('change',apply)});
});
if(location.hash){var el=document.getElementById(decodeURIComponent(location.hash.slice(1)));if(el){var d=el.querySelector('details');if(d)d.open=true;}}
`;

function filters(statuses: readonly string[]): string {
  const boxes = statuses.map((s) => `<label><input type="checkbox" value="${esc(s)}" checked> ${esc(s)}</label>`).join(' ');
  return `<div class="filters"><input type="search" placeholder="Filter (ID, Titel, Szenario …)"> ${boxes}</div>`;
}

export function renderHtml(t: TraceReport): string {
  const s = t.summary;
  const card = (title: string, big: string, sub: string) =>
    `<div class="card"><div class="sub">${esc(title)}</div><div class="big">${big}</div><div class="sub">${sub}</div></div>`;

  const summary = `<section id="summary"><h2>Zusammenfassung</h2><div class="cards">
${card('Ausführbare Anforderungen abgedeckt', `${s.executable.covered} / ${s.executable.total}`, `${s.executable.coveredPercent} % · ${s.executable.passed} passed · ${s.executable.failed} failed · ${s.executable.untested} untested`)}
${card('Anforderungen', String(s.requirements.total), `${s.requirements.passed} passed · ${s.requirements.failed} failed · ${s.requirements.untested} untested · ${s.requirements.documented} documented`)}
${card('Anwendungsfälle', String(s.useCases.total), `${s.useCases.passed} passed · ${s.useCases.partial} partial · ${s.useCases.failed} failed · ${s.useCases.untested} untested`)}
${card('Infrastruktur-Prüfungen', String(s.infrastructure.total), `${s.infrastructure.passed} passed · ${s.infrastructure.failed} failed · ${s.infrastructure.untested} untested`)}
${card('Szenarien', String(s.scenarios.total), `${s.scenarios.passed} passed · ${s.scenarios.failed} failed · ${s.scenarios.broken} broken · ${s.scenarios['not-run']} not run`)}
${card('Prüfungen (verify)', String(s.assertions.total), `${s.assertions.passed} passed · ${s.assertions.failed} failed · ${s.assertions.broken} broken`)}
</div>
<p class="muted">Lauf: ${esc(t.run.startedAt ?? '?')} → ${esc(t.run.finishedAt ?? '?')}${
    t.run.success === null ? '' : t.run.success ? ' · erfolgreich' : ' · fehlgeschlagen'
  } · Cucumber ${esc(t.run.cucumberVersion ?? '?')} · Node ${esc(t.run.nodeVersion ?? '?')} · erzeugt ${esc(t.generatedAt)}</p>
${t.run.errors.length ? `<ul class="warn">${t.run.errors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>` : ''}
<p class="muted">Status: <b>passed</b> ≥1 verify-Prüfung bestanden, keine fehlgeschlagen · <b>failed</b> ≥1 verify-Prüfung fehlgeschlagen · <b>untested</b> keine verify-Prüfung mit Ergebnis (ein Tag allein zählt nicht) · <b>documented</b> als dokumentiert klassifiziert.</p>
</section>`;

  const reqRows = t.requirements
    .map(
      (r) => `<tr id="${esc(r.id)}" data-status="${esc(r.status)}"><td><b>${esc(r.id)}</b></td><td>${esc(r.title)}${
        r.justification && r.classification === 'documented' ? `<div class="muted">${esc(r.justification)}</div>` : ''
      }</td><td>${esc(r.chapter.number)} <span class="muted">${esc(r.chapter.title)}</span></td><td>${esc(r.useCase ?? '–')}</td><td>${esc(
        r.classification,
      )}</td><td>${badge(r.status)}</td><td>${counts(r.assertionCounts)}${assertionDetails(r.assertions)}</td><td>${scenarioList(r.scenarios)}</td></tr>`,
    )
    .join('\n');
  const requirements = `<section id="requirements" data-filterable><h2>Anforderungen (${t.requirements.length})</h2>${filters([
    'passed',
    'failed',
    'untested',
    'documented',
  ])}<table><thead><tr><th>ID</th><th>Titel</th><th>Kapitel</th><th>UC</th><th>Klasse</th><th>Status</th><th>Prüfungen</th><th>Szenarien</th></tr></thead><tbody>
${reqRows}</tbody></table></section>`;

  const ucRows = t.useCases
    .map((u) => {
      const rs = u.requirementStatus;
      return `<tr id="${esc(u.id)}" data-status="${esc(u.status)}"><td><b>${esc(u.id)}</b></td><td>${esc(u.name)}</td><td>${badge(u.status)}</td><td>${
        u.requirementIds.length
      } <span class="muted">(${rs.passed} passed · ${rs.failed} failed · ${rs.untested} untested · ${rs.documented} documented)</span></td><td>${counts(
        u.assertionCounts,
      )}</td><td>${scenarioList(u.scenarios)}</td></tr>`;
    })
    .join('\n');
  const useCases = `<section id="use-cases" data-filterable><h2>Anwendungsfälle (${t.useCases.length})</h2>${filters([
    'passed',
    'partial',
    'failed',
    'untested',
    'documented',
  ])}<table><thead><tr><th>ID</th><th>Name</th><th>Status</th><th>Anforderungen</th><th>Prüfungen</th><th>Szenarien</th></tr></thead><tbody>
${ucRows}</tbody></table></section>`;

  const infraRows = t.infrastructure
    .map(
      (i) =>
        `<tr id="${esc(i.id)}" data-status="${esc(i.status)}"><td><b>${esc(i.id)}</b></td><td>${esc(i.title)}</td><td>${esc(i.source)}</td><td>${badge(
          i.status,
        )}</td><td>${counts(i.assertionCounts)}${assertionDetails(i.assertions)}</td><td>${scenarioList(i.scenarios)}</td></tr>`,
    )
    .join('\n');
  const infrastructure = `<section id="infrastructure" data-filterable><h2>Infrastruktur-Prüfungen (${t.infrastructure.length})</h2>
<p class="muted">Prüfungen der simulierten TI-Infrastruktur des Harness (aus anderen gematik-Spezifikationen); sie zählen nicht zur Anforderungsabdeckung.</p>
${filters(['passed', 'failed', 'untested'])}<table><thead><tr><th>ID</th><th>Titel</th><th>Quelle</th><th>Status</th><th>Prüfungen</th><th>Szenarien</th></tr></thead><tbody>
${infraRows}</tbody></table></section>`;

  const scRows = t.scenarios
    .map(
      (sc) => `<tr id="sc-${esc(encodeURIComponent(sc.key))}" data-status="${esc(sc.status)}"><td>${esc(sc.tcid ?? '–')}</td><td>${esc(sc.name)}<div class="muted"><code>${esc(
        `${sc.uri}:${sc.line}`,
      )}</code></div></td><td>${badge(sc.status)}${sc.message ? `<div class="err">${esc(sc.message)}</div>` : ''}</td><td>${sc.afoIds
        .map((id) => `<a href="#${esc(id)}">${esc(id)}</a>`)
        .join(' ')}</td><td>${sc.useCases.map((u) => `<a href="#${esc(u)}">${esc(u)}</a>`).join(' ')}</td><td>${
        sc.assertions.length
          ? `<ul class="asr">${sc.assertions
              .map((a) => `<li>${badge(a.status)} <a href="#${esc(a.afoId)}">${esc(a.afoId)}</a> ${esc(a.description)}</li>`)
              .join('')}</ul>`
          : '<span class="muted">–</span>'
      }</td></tr>`,
    )
    .join('\n');
  const scenarios = `<section id="scenarios" data-filterable><h2>Szenarien (${t.scenarios.length})</h2>${filters([
    'passed',
    'failed',
    'broken',
    'skipped',
    'pending',
    'undefined',
    'ambiguous',
    'unknown',
    'not-run',
  ])}<table><thead><tr><th>TCID</th><th>Szenario</th><th>Status</th><th>AFO-IDs</th><th>UC</th><th>verify-Prüfungen</th></tr></thead><tbody>
${scRows}</tbody></table></section>`;

  const warnings = t.warnings.length
    ? `<section id="warnings"><h2>Hinweise (${t.warnings.length})</h2><ul class="warn">${t.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></section>`
    : '';

  return `<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Traceability – TI-Harness</title><style>${CSS}</style></head>
<body><header><h1>Traceability: Anforderung → Szenario → Prüfung</h1><div class="meta">${esc(t.catalogue.source ?? 'Katalog')} · ${
    t.catalogue.requirements
  } Anforderungen (${t.catalogue.executable} ausführbar, ${t.catalogue.documented} dokumentiert) · ${t.catalogue.useCases} Anwendungsfälle · ${
    t.catalogue.infrastructure
  } Infrastruktur-Prüfungen · trace.json schemaVersion ${t.schemaVersion}</div></header>
<nav><a href="#summary">Zusammenfassung</a><a href="#requirements">Anforderungen</a><a href="#use-cases">Anwendungsfälle</a><a href="#infrastructure">Infrastruktur</a><a href="#scenarios">Szenarien</a>${
    t.warnings.length ? '<a href="#warnings">Hinweise</a>' : ''
  }</nav>
<main>${summary}${requirements}${useCases}${infrastructure}${scenarios}${warnings}</main>
<script>${SCRIPT}</script></body></html>
`;
}
