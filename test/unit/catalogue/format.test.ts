/**
 * catalogueToJson / catalogueToMarkdown (used by `ti-harness catalogue --json|--md`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCatalogue } from '../../../reports/catalogue/catalogue';
import { catalogueToJson, catalogueToMarkdown } from '../../../reports/catalogue/format';

test('catalogueToJson: counts, plain data, round-trips through JSON', () => {
  const c = loadCatalogue();
  const j = catalogueToJson(c);
  assert.equal(j.requirementCount, 206);
  assert.equal(j.useCaseCount, 23);
  assert.equal(j.classification.executable + j.classification.documented, 206);
  assert.equal(j.source.document, 'gemSysL_eRp');
  assert.equal(j.infrastructure.length, c.infrastructure.length);
  const back = JSON.parse(JSON.stringify(j));
  assert.deepEqual(back, j, 'no functions or undefined-only fields lost');
  assert.equal(back.requirements.find((r: { id: string }) => r.id === 'A_18998')?.classification, 'documented');
});

test('catalogueToMarkdown: a table per chapter, the use cases and the infrastructure checks', () => {
  const md = catalogueToMarkdown(loadCatalogue());
  assert.match(md, /^# Requirement catalogue — gemSysL_eRp 1\.1\.0\n/);
  assert.match(md, /\n### 4\.1\.1\.1 Vertrauenswürdige Ausführungsumgebung\n\n\| ID \| Title \| Obligations \| Products \| UC \| Classification \|\n/);
  assert.match(md, /\n\| A_18823 \| Umsetzung des E-Rezept-Fachdienstes in einer Vertrauenswürdigen Ausführungsumgebung \(VAU\) \| MUSS \| E-Rezept-Fachdienst \| – \| executable \|\n/);
  assert.match(md, /\n\| A_18502 \| Anwendungsfall "E-Rezepte erzeugen" \| MUSS \| E-Rezept-Fachdienst, PS verordnend, Konnektor \| UC_2\.1 \| executable \|\n/);
  assert.match(md, /\n\| A_20207 \| Frontend des Versicherten - Makelverbot \| DARF NICHT \| FdV \| – \| executable \|\n/);
  assert.match(md, /\n### UC_2\.1 — E-Rezepte erzeugen\n/);
  assert.match(md, /\n### UC_PoPP_1c — PoPP-Token bei physischer Anwesenheit in der LEI – eGK\n/);
  assert.match(md, /\n\| TUC_PKI_006 \| OCSP-Abfrage \| gemSpec_PKI \| GS-A_4657-03 \|\n/);
  // chapters appear in document order, every requirement exactly once
  const reqSection = md.slice(0, md.indexOf('\n## Use cases'));
  const ids = [...reqSection.matchAll(/^\| (A_\d{5}) \|/gm)].map((m) => m[1]);
  assert.equal(ids.length, 206);
  assert.equal(new Set(ids).size, 206);
  const chapters = [...reqSection.matchAll(/^### (\d+(?:\.\d+)*) /gm)].map((m) => m[1]);
  assert.equal(chapters[0], '2.4.7');
  assert.equal(chapters[chapters.length - 1], '5.3');
});

test('catalogueToMarkdown escapes table cells', () => {
  const c = loadCatalogue();
  const r = c.requirements[0];
  const fake = { ...c, requirements: [{ ...r, title: 'a | b\nc' }] };
  const md = catalogueToMarkdown(fake);
  assert.match(md, /\| A_18966 \| a \\\| b c \|/);
});
