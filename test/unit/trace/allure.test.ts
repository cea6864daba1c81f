/** Allure report generation (reports/allure/generate.ts): properties, error messages, and one real run of allure-commandline. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AllureReportError, CATEGORIES_FILE, generateAllureReport, propertiesText } from '../../../reports/allure/generate';

const FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'trace', 'allure-results');

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'allure-test-'));
}

test('environment.properties escapes as java.util.Properties reads it', () => {
  assert.equal(propertiesText({ 'service pki': 'http://127.0.0.1:8440 (simuliert)', 'a=b': 'x:y#z', Umlaut: 'ä' }),
    'service\\ pki=http\\://127.0.0.1\\:8440 (simuliert)\na\\=b=x\\:y\\#z\nUmlaut=\\u00e4\n');
});

test('categories.json names the three failure classes', () => {
  const cats = JSON.parse(fs.readFileSync(CATEGORIES_FILE, 'utf8')) as { name: string; matchedStatuses: string[]; messageRegex?: string }[];
  assert.deepEqual(cats.map((c) => c.name), ['Konformitätsfehler', 'Umgebungsfehler', 'Testdefekte', 'Sonstige Abbrüche']);
  assert.deepEqual(cats[0].matchedStatuses, ['failed']);
  assert.ok(new RegExp(cats[1].messageRegex!.replace('(?s)', ''), 's').test('EnvironmentError: PKI down\n  at x'));
});

test('no results: a clear error, before Java is even needed', async () => {
  const dir = tmp();
  try {
    await assert.rejects(generateAllureReport({ resultsDir: dir, outDir: path.join(dir, 'out') }), (e: unknown) =>
      e instanceof AllureReportError && /no Allure results in .*run the features first/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('missing Java: the error says what to install', async () => {
  const dir = tmp();
  try {
    fs.cpSync(FIXTURE, path.join(dir, 'results'), { recursive: true });
    await assert.rejects(
      generateAllureReport({ resultsDir: path.join(dir, 'results'), outDir: path.join(dir, 'out'), javaCommand: path.join(dir, 'no-java', 'bin', 'java') }),
      (e: unknown) => e instanceof AllureReportError && /install default-jre-headless/.test(e.message),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('generates a single-file report with categories and environment', { timeout: 120_000 }, async () => {
  const dir = tmp();
  try {
    const results = path.join(dir, 'results');
    fs.cpSync(FIXTURE, results, { recursive: true });
    const index = await generateAllureReport({ resultsDir: results, outDir: path.join(dir, 'out'), environment: { Lauf: 'Test' } });
    assert.equal(index, path.join(dir, 'out', 'index.html'));
    assert.deepEqual(fs.readdirSync(path.join(dir, 'out')), ['index.html'], 'single file: opens from disk');
    const html = fs.readFileSync(index, 'utf8');
    assert.ok(html.length > 100_000);
    assert.ok(fs.existsSync(path.join(results, 'categories.json')));
    assert.match(fs.readFileSync(path.join(results, 'environment.properties'), 'utf8'), /^Lauf=Test$/m);
    // the single file embeds its data as d('<path>','<base64>') calls
    const files = new Map([...html.matchAll(/d\('([^']+)','([A-Za-z0-9+/=]*)'\)/g)].map((m) => [m[1], Buffer.from(m[2], 'base64').toString('utf8')]));
    const categories = JSON.parse(files.get('data/categories.json') ?? '{}') as { children?: { name: string; children?: { name: string }[] }[] };
    assert.deepEqual(categories.children?.map((c) => c.name), ['Konformitätsfehler'], 'the failed result lands in Konformitätsfehler');
    assert.match(JSON.stringify(categories.children?.[0]), /OCSP-Status \\"revoked\\"/, 'the scenario is listed under it');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
