/**
 * The generated catalogue data against the specification itself: counts, ids,
 * fidelity of the text, chapters, obligations, products and use cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RequirementsFile, UseCasesFile } from '../../../reports/catalogue/types';
import { sharedPath } from '../../../simulators/lib/shared-data';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');
const SEED = sharedPath('seeds', '003_88218b568cebd6dc.txt');
const seed = fs.readFileSync(SEED, 'utf8');
const seedLines = seed.split('\n');

const reqFile = JSON.parse(
  fs.readFileSync(path.join(PROJECT_ROOT, 'reports', 'catalogue', 'requirements.json'), 'utf8'),
) as RequirementsFile;
const ucFile = JSON.parse(
  fs.readFileSync(path.join(PROJECT_ROOT, 'reports', 'catalogue', 'use-cases.json'), 'utf8'),
) as UseCasesFile;
const reqs = reqFile.requirements;
const byId = new Map(reqs.map((r) => [r.id, r]));

function req(id: string) {
  const r = byId.get(id);
  assert.ok(r, `${id} is in requirements.json`);
  return r;
}

/** The same as `grep -cE '^A_[0-9]{5} - ' <seed>`. */
const grepStartLines = seedLines.filter((l) => /^A_[0-9]{5} - /.test(l));

test('exactly as many unique requirements as the seed has `^A_[0-9]{5} - ` lines (206)', () => {
  assert.equal(grepStartLines.length, 206);
  assert.equal(reqs.length, grepStartLines.length);
  assert.equal(reqFile.count, reqs.length);
  assert.equal(new Set(reqs.map((r) => r.id)).size, reqs.length);
  assert.deepEqual(
    reqs.map((r) => r.id),
    grepStartLines.map((l) => l.slice(0, 7)),
    'same ids in document order',
  );
});

test('sourceLine points at the requirement line in the seed', () => {
  for (const r of reqs) {
    assert.ok(seedLines[r.sourceLine - 1].startsWith(`${r.id} - `), `${r.id} at line ${r.sourceLine}`);
  }
});

test('every requirement has a title and a text, and no text carries the [<=] marker', () => {
  for (const r of reqs) {
    assert.ok(r.title.trim().length > 0, `${r.id} title`);
    assert.ok(r.text.trim().length > 0, `${r.id} text`);
    assert.ok(!r.text.includes('[<=]'), `${r.id} text without marker`);
  }
});

test('the text is faithful: every line occurs in the seed, in order, between the title and the next [<=]', () => {
  const norm = (s: string) => s.replace(/[\u00A0\t]/g, ' ').replace(/ {2,}/g, ' ').trim();
  for (const r of reqs) {
    const end = seedLines.findIndex((l, i) => i >= r.sourceLine && l.includes('[<=]'));
    const block = seedLines.slice(r.sourceLine, end + 1).map((l) => norm(l.replace('[<=]', ''))).filter((l) => l);
    const text = r.text.split('\n').filter((l) => l);
    assert.deepEqual(text, block, `${r.id}`);
  }
});

test('208 [<=] markers: 206 close requirements, the 2 others stand in chapter 1.5.1 (Methodik)', () => {
  const markerLines = seedLines.map((l, i) => (l.includes('[<=]') ? i + 1 : 0)).filter((n) => n > 0);
  assert.equal(markerLines.length, 208);
  const methodik = seedLines.findIndex((l) => l.startsWith('1.5.1 Anforderungen')) + 1;
  const next = seedLines.findIndex((l) => l.startsWith('1.5.2 ')) + 1;
  const stray = markerLines.filter((n) => n > methodik && n < next);
  assert.deepEqual(stray, [78, 80]);
  assert.match(reqFile.notes.join(' '), /lines 78 and 80/);
});

test('chapter is the innermost numbered heading', () => {
  assert.deepEqual(req('A_18823').chapter, { number: '4.1.1.1', title: 'Vertrauenswürdige Ausführungsumgebung' });
  assert.deepEqual(req('A_18966').chapter, { number: '2.4.7', title: 'Unterstützung betrieblicher Prozesse' });
  assert.deepEqual(req('A_18555').chapter, { number: '4.3.1', title: 'Schnittstelle für die Ressource E-Rezept' });
  assert.equal(req('A_19010').chapter.number, '5');
  assert.equal(req('A_18859').chapter.number, '5.3');
  // The table row "4.791.000  3.501.000" inside A_18743 is no heading.
  assert.equal(req('A_18745').chapter.number, '4.1.1.2');
});

test('obligations: DARF NICHT (also split "DARF … NICHT") is not DARF or MUSS; plurals fold to the singular', () => {
  assert.deepEqual(req('A_20207').obligations, ['DARF NICHT']);
  assert.deepEqual(req('A_18613').keywords, ['DARF NICHT']); // "DARF ein E-Rezept NICHT in den …"
  assert.deepEqual(req('A_18885').obligations, ['DARF NICHT']);
  assert.deepEqual(req('A_18996').keywords, ['KÖNNEN']);
  assert.deepEqual(req('A_18996').obligations, ['KANN']);
  assert.deepEqual(req('A_18797').keywords, ['MUSS', 'MÜSSEN']);
  assert.deepEqual(req('A_18797').obligations, ['MUSS']);
  assert.deepEqual(req('A_18529').obligations, ['SOLL']);
  // lower-case "muss" in A_18522's second sentence is no keyword; "soll" in A_18541 neither
  assert.deepEqual(req('A_18541').obligations, ['MUSS']);
  const counts = new Map<string, number>();
  for (const r of reqs) for (const o of r.obligations) counts.set(o, (counts.get(o) ?? 0) + 1);
  assert.equal(counts.get('DARF NICHT'), 6);
  assert.equal(counts.get('SOLL'), 4);
  assert.equal(counts.get('KANN'), 4);
});

test('products: addressee of the normative sentence, normalised', () => {
  assert.deepEqual(req('A_18741').products, ['Anbieter E-Rezept-Fachdienst']); // names the IDP only as excluded role
  assert.deepEqual(req('A_18992').products, ['Anbieter E-Rezept-Fachdienst', 'Anbieter IDP']);
  assert.deepEqual(req('A_18516').products, ['FdV', 'PS verordnend', 'PS abgebend']);
  assert.deepEqual(req('A_18613').products, ['PS verordnend']);
  assert.deepEqual(req('A_18553').products, ['PS abgebend']);
  assert.deepEqual(req('A_18816').products, ['Authentisierungsmodul']); // "Falls der IDP …, MUSS das Authentisierungsmodul"
  assert.deepEqual(req('A_18793').products, ['E-Rezept-Fachdienst', 'VZD']); // "außer dem Identity Provider"
  assert.deepEqual(req('A_18555').products, ['E-Rezept-Fachdienst', 'PS verordnend']);
  assert.deepEqual(req('A_18887').products, ['IDP', 'Authentisierungsmodul']);
  assert.deepEqual(req('A_18502').products, ['E-Rezept-Fachdienst', 'PS verordnend', 'Konnektor']);
  assert.deepEqual(req('A_18496').products, ['Fachanwendung E-Rezept (alle Produkttypen)']);
  for (const r of reqs) assert.ok(r.products.length > 0, `${r.id} has products`);
});

test('use case per requirement: defines, or names exactly one', () => {
  assert.equal(req('A_18502').useCase, 'UC_2.1');
  assert.equal(req('A_18502').useCaseBasis, 'defines');
  assert.equal(req('A_18503').useCase, 'UC_2.3');
  assert.deepEqual(req('A_18503').relatedUseCases, ['UC_2.1', 'UC_2.3']); // its precondition names UC 2.1
  assert.equal(req('A_18556').useCase, 'UC_2.3');
  assert.equal(req('A_18556').useCaseBasis, 'names');
  assert.equal(req('A_18555').useCase, 'UC_2.1'); // "E-Rezept-ID abrufen" is the call inside UC 2.1
  assert.equal(req('A_18869').useCase, null); // message operation serves UC 3.3 and UC 4.7
  assert.deepEqual(req('A_18869').relatedUseCases, ['UC_3.3', 'UC_4.7']);
  assert.equal(req('A_18846').useCase, null);
  const definers = reqs.filter((r) => r.useCaseBasis === 'defines');
  assert.equal(definers.length, 21);
});

const EXPECTED_UCS = [
  'UC_2.1', 'UC_2.3', 'UC_2.5',
  'UC_3.1', 'UC_3.2', 'UC_3.3', 'UC_3.4', 'UC_3.5', 'UC_3.6', 'UC_3.8',
  'UC_4.1', 'UC_4.2', 'UC_4.3', 'UC_4.4', 'UC_4.5', 'UC_4.6', 'UC_4.7', 'UC_4.8', 'UC_4.9',
  'UC_5.1', 'UC_5.2',
  'UC_PoPP_1c', 'UC_PoPP_2c',
];

test('23 use cases with the expected ids', () => {
  assert.equal(ucFile.count, 23);
  assert.deepEqual(
    ucFile.useCases.map((u) => u.id),
    EXPECTED_UCS,
  );
  const tableCount = seedLines.filter((l) => /^Name UC \d+\.\d+ - /.test(l)).length;
  assert.equal(tableCount, 21, 'the seed holds 21 use-case tables');
});

test('use-case tables are read faithfully', () => {
  const uc = ucFile.useCases.find((u) => u.id === 'UC_2.1')!;
  assert.equal(uc.number, '2.1');
  assert.equal(uc.name, 'E-Rezepte erzeugen');
  assert.equal(uc.definedBy, 'A_18502');
  assert.deepEqual(uc.chapter, { number: '3.4.1', title: 'E-Rezepte durch Verordnenden erzeugen' });
  assert.deepEqual(uc.preconditions, [
    'Der oder die Versicherten sind der LEI bekannt.',
    'Ein oder mehrere Verordnungsdatensätze wurden für den bzw. die Versicherten im Primärsystem erstellt.',
    'Der HBA ist für die QES gesteckt und freigeschaltet.',
  ]);
  assert.match(uc.description, /^Der verordnende Leistungserbringer wählt im Primärsystem/);
  assert.equal(uc.postconditions.length, 3);
  assert.equal(uc.postconditions[2], 'Die E-Rezepte sind im E-Rezept-Fachdienst angelegt und haben den Status "initialisiert".');
  assert.deepEqual(ucFile.useCases.find((u) => u.id === 'UC_3.1')!.preconditions, []); // "keine"
  const uc52 = ucFile.useCases.find((u) => u.id === 'UC_5.2')!;
  assert.equal(uc52.description.split('\n')[0], '1. Das Client System (PS/AVS) übergibt die Authentifizierungs-Anforderung mit den angeforderten Identitätsmerkmalen an das Authentisierungsmodul.');
  for (const u of ucFile.useCases) {
    assert.ok(u.name && u.description && u.postconditions.length > 0, u.id);
    if (u.definedBy) assert.equal(req(u.definedBy).useCase, u.id);
  }
});

test('PoPP use cases come from the PoPP material, not from a table', () => {
  for (const id of ['UC_PoPP_1c', 'UC_PoPP_2c']) {
    const uc = ucFile.useCases.find((u) => u.id === id)!;
    assert.equal(uc.definedBy, null);
    assert.equal(uc.source, 'reference/popp/ilf/20_versorgungsszenarien.md');
    assert.equal(uc.origin, 'prose');
    assert.match(uc.name, /eGK$/);
    assert.ok(uc.preconditions.length > 0 && uc.postconditions.length > 0);
    assert.match(uc.description, /PoPP-Token/);
  }
  assert.equal(ucFile.useCases.find((u) => u.id === 'UC_PoPP_1c')!.name, 'PoPP-Token bei physischer Anwesenheit in der LEI – eGK');
});
