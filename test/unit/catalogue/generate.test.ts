/**
 * generate.ts: the checked-in data is what the generator produces, the output is
 * deterministic, and `--check` reports stale files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CATALOGUE_DIR,
  PROJECT_ROOT,
  REQUIREMENTS_FILE,
  USE_CASES_FILE,
  generateCatalogue,
  staleFiles,
} from '../../../reports/catalogue/generate';
import { sharedPath } from '../../../simulators/lib/shared-data';

test('checked-in requirements.json and use-cases.json are up to date', () => {
  const generated = generateCatalogue();
  assert.deepEqual(staleFiles(generated), []);
});

test('generation is deterministic and carries no timestamps', () => {
  const a = generateCatalogue();
  const b = generateCatalogue();
  assert.deepEqual(a.files, b.files);
  for (const content of Object.values(a.files)) {
    assert.doesNotMatch(content, /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    assert.ok(content.endsWith('}\n'));
  }
});

test('staleFiles names a changed or missing file', () => {
  const generated = generateCatalogue();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalogue-gen-'));
  try {
    fs.writeFileSync(path.join(dir, REQUIREMENTS_FILE), generated.files[REQUIREMENTS_FILE]);
    assert.deepEqual(staleFiles(generated, dir), [USE_CASES_FILE]);
    fs.writeFileSync(path.join(dir, USE_CASES_FILE), generated.files[USE_CASES_FILE]);
    assert.deepEqual(staleFiles(generated, dir), []);
    fs.writeFileSync(path.join(dir, REQUIREMENTS_FILE), generated.files[REQUIREMENTS_FILE].replace('A_18502', 'A_18503'));
    assert.deepEqual(staleFiles(generated, dir), [REQUIREMENTS_FILE]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the generator refuses a seed that does not hold 206 requirements', () => {
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'catalogue-shared-'));
  try {
    const real = sharedPath();
    for (const rel of [
      'seeds/003_88218b568cebd6dc.txt',
      'seeds/000_369e74bb45bbfd8d.txt',
      'reference/popp/ilf/20_versorgungsszenarien.md',
      'reference/popp/ilf/10_systemueberblick.md',
    ]) {
      fs.mkdirSync(path.dirname(path.join(shared, rel)), { recursive: true });
      fs.copyFileSync(path.join(real, rel), path.join(shared, rel));
    }
    assert.equal(generateCatalogue(shared).requirements.count, 206, 'the copy generates');
    const seedFile = path.join(shared, 'seeds/003_88218b568cebd6dc.txt');
    const seed = fs.readFileSync(seedFile, 'utf8');
    // drop A_18788's closing marker: its block would swallow the next requirement
    fs.writeFileSync(seedFile, seed.replace('100 Tage nach dem Einstellen löschen.\n\n[<=]', '100 Tage nach dem Einstellen löschen.\n'));
    assert.throws(() => generateCatalogue(shared), /requirement starts before A_18788/);
  } finally {
    fs.rmSync(shared, { recursive: true, force: true });
  }
});

test('`generate.ts --check` passes on the checked-in data', () => {
  const res = spawnSync(process.execPath, ['bin/run-ts.js', 'reports/catalogue/generate.ts', '--check'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  });
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /up to date \(206 requirements, 23 use cases\)/);
  assert.equal(CATALOGUE_DIR, path.join(PROJECT_ROOT, 'reports', 'catalogue'));
});

test('`generate.ts` rejects unknown arguments', () => {
  const res = spawnSync(process.execPath, ['bin/run-ts.js', 'reports/catalogue/generate.ts', '--chek'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  });
  assert.equal(res.status, 2);
  assert.match(res.stderr, /unknown argument/);
});
