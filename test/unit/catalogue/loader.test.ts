/**
 * loadCatalogue(): the merged API, the hand-kept classification and
 * infrastructure files, and the rejection of broken variants.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import {
  CATALOGUE_DIR,
  CatalogueError,
  MAX_DOCUMENTED_SHARE,
  PRODUCT_TAGS,
  PRODUCTS,
  loadCatalogue,
} from '../../../reports/catalogue/catalogue';

const classificationText = fs.readFileSync(path.join(CATALOGUE_DIR, 'classification.yaml'), 'utf8');
const infrastructureText = fs.readFileSync(path.join(CATALOGUE_DIR, 'infrastructure.yaml'), 'utf8');

function classification(): { requirements: Record<string, Record<string, unknown>> } {
  return YAML.parse(classificationText);
}

test('the checked-in catalogue loads: 206 requirements, 23 use cases, all classified', () => {
  const c = loadCatalogue({ fresh: true });
  assert.equal(c.requirements.length, 206);
  assert.equal(c.useCases.length, 23);
  assert.equal(c.counts.executable + c.counts.documented, 206);
  for (const r of c.requirements) assert.ok(r.classification === 'executable' || r.classification === 'documented', r.id);
  assert.equal(c.source.document, 'gemSysL_eRp');
  assert.equal(c.source.version, '1.1.0');
});

test('every documented requirement has a justification; documented stay at or below 10 %', () => {
  const c = loadCatalogue();
  const documented = c.requirements.filter((r) => r.classification === 'documented');
  for (const r of documented) {
    assert.ok(r.justification && r.justification.length > 20, `${r.id} justification`);
    assert.equal(r.how, undefined, `${r.id} documented has no how`);
  }
  assert.ok(documented.length <= 0.1 * c.requirements.length, `${documented.length} documented`);
  assert.equal(c.counts.documented, documented.length);
  for (const r of c.requirements.filter((x) => x.classification === 'executable')) {
    assert.ok(r.how && r.justification, `${r.id} executable has how and justification`);
  }
});

test('organisational requirements are the documented ones', () => {
  const c = loadCatalogue();
  for (const id of ['A_18998', 'A_18741', 'A_18903', 'A_19010', 'A_18881']) {
    assert.equal(c.requirement(id)?.classification, 'documented', id);
  }
  for (const id of ['A_18846', 'A_18833', 'A_18967', 'A_19001', 'A_18555']) {
    assert.equal(c.requirement(id)?.classification, 'executable', id);
  }
});

test('lookups: requirement, useCase, isKnown*', () => {
  const c = loadCatalogue();
  assert.equal(c.requirement('A_18555')?.title, 'Logische Operation "E-Rezept-ID abrufen"');
  assert.equal(c.requirement('A_99999'), undefined);
  assert.equal(c.useCase('UC_2.1')?.definedBy, 'A_18502');
  assert.equal(c.useCase('UC_PoPP_2c')?.definedBy, null);
  assert.equal(c.isKnownRequirement('A_18502'), true);
  assert.equal(c.isKnownRequirement('A_00000'), false);
  assert.equal(c.isKnownRequirement('TUC_PKI_006'), false);
  assert.equal(c.isKnownUseCase('UC_3.8'), true);
  assert.equal(c.isKnownUseCase('UC_3.7'), false);
  assert.equal(c.isKnownUseCase('2.1'), false, 'only the tag form UC_2.1');
  assert.equal(c.isKnownInfrastructureCheck('TUC_PKI_006'), true);
  assert.equal(c.isKnownInfrastructureCheck('A_18502'), false);
  assert.equal(c.infrastructureCheck('TUC_PKI_006')?.title, 'OCSP-Abfrage');
  assert.equal(c.infrastructureCheck('TUC_PKI_006')?.source, 'gemSpec_PKI');
});

test('infrastructure checks never overlap the 206 and are complete', () => {
  const c = loadCatalogue();
  assert.ok(c.infrastructure.length > 0);
  for (const i of c.infrastructure) {
    assert.ok(!c.isKnownRequirement(i.id), i.id);
    assert.ok(i.title && i.source && i.text, i.id);
  }
});

test('every product of the vocabulary has a tag entry', () => {
  assert.deepEqual(Object.keys(PRODUCT_TAGS).sort(), [...PRODUCTS].sort());
});

function rejects(overrides: Parameters<typeof loadCatalogue>[0], pattern: RegExp): void {
  assert.throws(
    () => loadCatalogue(overrides),
    (e: unknown) => e instanceof CatalogueError && pattern.test(e.message),
  );
}

test('loader rejects a classification that misses a requirement', () => {
  const cls = classification();
  delete cls.requirements.A_18555;
  rejects({ overrides: { classification: cls } }, /not classified: A_18555/);
});

test('loader rejects unknown ids, bad kinds and missing justification or how', () => {
  const unknown = classification();
  unknown.requirements.A_00001 = { classification: 'executable', justification: 'x', how: 'y' };
  rejects({ overrides: { classification: unknown } }, /unknown requirement id\(s\): A_00001/);

  const badKind = classification();
  badKind.requirements.A_18502.classification = 'manual';
  rejects({ overrides: { classification: badKind } }, /A_18502: classification must be/);

  const noJustification = classification();
  delete noJustification.requirements.A_18998.justification;
  rejects({ overrides: { classification: noJustification } }, /A_18998: documented without justification/);

  const noHow = classification();
  delete noHow.requirements.A_18502.how;
  rejects({ overrides: { classification: noHow } }, /A_18502: executable without "how"/);

  const extraKey = classification();
  extraKey.requirements.A_18502.status = 'done';
  rejects({ overrides: { classification: extraKey } }, /A_18502: unknown key\(s\) status/);

  rejects({ overrides: { classification: { entries: {} } } }, /"requirements" mapping/);
});

test('loader rejects more than 10 % documented', () => {
  const cls = classification();
  const limit = Math.floor(206 * MAX_DOCUMENTED_SHARE);
  let documented = Object.values(cls.requirements).filter((e) => e.classification === 'documented').length;
  for (const e of Object.values(cls.requirements)) {
    if (documented > limit) break;
    if (e.classification === 'executable') {
      e.classification = 'documented';
      delete e.how;
      documented++;
    }
  }
  rejects({ overrides: { classification: cls } }, /exceed the limit of 20/);
});

test('loader rejects a YAML text with a duplicated key', () => {
  const text = classificationText.replace('requirements:\n', 'requirements:\n  A_18502:\n    classification: documented\n    justification: twice\n');
  rejects({ overrides: { classification: text } }, /cannot parse classification\.yaml/);
});

test('loader rejects a broken classification.yaml in another directory', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalogue-'));
  try {
    for (const f of ['requirements.json', 'use-cases.json', 'infrastructure.yaml']) {
      fs.copyFileSync(path.join(CATALOGUE_DIR, f), path.join(dir, f));
    }
    fs.writeFileSync(path.join(dir, 'classification.yaml'), classificationText);
    assert.equal(loadCatalogue({ dir }).requirements.length, 206, 'the copy loads');
    fs.writeFileSync(
      path.join(dir, 'classification.yaml'),
      classificationText.replace(/(  A_18967:[^\n]*\n    classification:) executable/, '$1 maybe'),
    );
    rejects({ dir }, /A_18967: classification must be "executable" or "documented"/);
    fs.rmSync(path.join(dir, 'classification.yaml'));
    rejects({ dir }, /catalogue file missing/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loader rejects infrastructure checks that collide with the 206 or lack fields', () => {
  const infra = YAML.parse(infrastructureText) as { checks: Record<string, unknown>[] };
  infra.checks.push({ id: 'A_18502', title: 't', source: 's', text: 'x' });
  rejects({ overrides: { infrastructure: infra } }, /A_18502: is one of the gemSysL_eRp requirements/);

  const incomplete = YAML.parse(infrastructureText) as { checks: Record<string, unknown>[] };
  delete incomplete.checks[0].source;
  rejects({ overrides: { infrastructure: incomplete } }, /TUC_PKI_006: missing source/);

  const dup = YAML.parse(infrastructureText) as { checks: Record<string, unknown>[] };
  dup.checks.push({ ...dup.checks[0] });
  rejects({ overrides: { infrastructure: dup } }, /TUC_PKI_006: listed twice/);
});

test('loader rejects inconsistent generated data', () => {
  const reqs = JSON.parse(fs.readFileSync(path.join(CATALOGUE_DIR, 'requirements.json'), 'utf8'));
  reqs.requirements.push({ ...reqs.requirements[0] });
  rejects({ overrides: { requirements: reqs } }, /duplicate id A_18966/);

  const ucs = JSON.parse(fs.readFileSync(path.join(CATALOGUE_DIR, 'use-cases.json'), 'utf8'));
  ucs.useCases = ucs.useCases.filter((u: { id: string }) => u.id !== 'UC_2.1');
  rejects({ overrides: { useCases: ucs } }, /A_18502 refers to unknown use case UC_2\.1/);
});
