/**
 * Generates the requirement catalogue's data files from the specification:
 *
 *   reports/catalogue/requirements.json  the 206 requirements of gemSysL_eRp 1.1.0
 *   reports/catalogue/use-cases.json     the 21 use cases of chapter 3 + UC_PoPP_1c, UC_PoPP_2c
 *
 * Usage: npm run catalogue:generate            (write the files)
 *        node bin/run-ts.js reports/catalogue/generate.ts --check
 *                                              (exit 1 if the checked-in files differ or the
 *                                               hand-kept classification does not load)
 *
 * Deterministic: no timestamps, document order for requirements, use-case order
 * for use cases, two-space JSON with a final newline. A re-run on the same
 * sources writes byte-identical files.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCatalogue } from './catalogue';
import { buildSeedCatalogue, parsePoppScenarios, CatalogueParseError } from './parse';
import type { RequirementsFile, SourceInfo, UseCaseRecord, UseCasesFile } from './types';

export const CATALOGUE_DIR = __dirname;
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
import { SHARED_DIR } from '../../simulators/lib/shared-data';

export { SHARED_DIR };

export const SEED_FILE = 'seeds/003_88218b568cebd6dc.txt';
export const POPP_SEED_FILE = 'seeds/000_369e74bb45bbfd8d.txt';
export const POPP_SCENARIOS_FILE = 'reference/popp/ilf/20_versorgungsszenarien.md';
export const POPP_OVERVIEW_FILE = 'reference/popp/ilf/10_systemueberblick.md';

export const REQUIREMENTS_FILE = 'requirements.json';
export const USE_CASES_FILE = 'use-cases.json';

/** Number of requirements the spec holds; the generator refuses anything else. */
export const EXPECTED_REQUIREMENTS = 206;
export const EXPECTED_USE_CASES = 23;

/**
 * The PoPP guide describes the two scenarios in prose (no table). Name, steps and
 * intro are read from the file; pre- and postconditions are condensed from the
 * same prose (intro = situation and prerequisites, steps 3–5 = outcome) and from
 * 10_systemueberblick.md (ZETA Client authenticates the Primärsystem with the SMC-B).
 * Each line below restates a sentence of those files.
 */
const POPP_CONDITIONS: Record<string, { preconditions: string[]; postconditions: string[] }> = {
  UC_PoPP_1c: {
    preconditions: [
      'Der Versicherte erscheint persönlich in der Leistungserbringerinstitution (LEI), beispielsweise in einer Arztpraxis, einer Apotheke oder einem Krankenhaus.',
      'Die eGK des Versicherten kann über ein geeignetes Kartenlesegerät eingelesen werden.',
      'Das Primärsystem verfügt über einen integrierten PoPP-Client und einen ZETA Client, der das Primärsystem bzw. die LEI mittels SMC-B gegenüber dem PoPP-Service authentisiert.',
    ],
    postconditions: [
      'Die Echtheit und Gültigkeit der eGK ist vom PoPP-Service geprüft.',
      'Der PoPP-Service hat das PoPP-Token ausgestellt und an den PoPP-Client zur weiteren Verwendung innerhalb des Primärsystems übermittelt.',
      'Das PoPP-Token kann vom Primärsystem als Autorisierungsnachweis bei Zugriffen auf die TI-Fachdienste (z. B. ePA für Alle, E-Rezept) genutzt werden.',
    ],
  },
  UC_PoPP_2c: {
    preconditions: [
      'Die Versorgung des Versicherten findet außerhalb der Räumlichkeiten der LEI statt, etwa bei einem Hausbesuch oder einer mobilen Versorgung durch das Personal der LEI.',
      'Die eGK des Versicherten kann über ein geeignetes mobiles Kartenlesegerät des mobilen Primärsystems eingelesen werden.',
      'Das mobile Primärsystem verfügt über einen PoPP-Client und einen ZETA Client, der das Primärsystem bzw. die LEI mittels SMC-B gegenüber dem PoPP-Service authentisiert.',
    ],
    postconditions: [
      'Die Echtheit und Gültigkeit der eGK ist vom PoPP-Service geprüft.',
      'Der PoPP-Service hat das PoPP-Token ausgestellt und an den PoPP-Client zur weiteren Verwendung innerhalb des Primärsystems übermittelt.',
      'Das PoPP-Token kann vom Primärsystem als Autorisierungsnachweis bei Zugriffen auf die TI-Fachdienste (z. B. ePA für Alle, E-Rezept) genutzt werden.',
    ],
  },
};

function sha256(content: string): string {
  return crypto.createHash('sha256').update(content, 'utf8').digest('hex');
}

function read(sharedDir: string, rel: string): string {
  const file = path.join(sharedDir, rel);
  if (!fs.existsSync(file)) throw new CatalogueParseError(`source not found: ${file}`);
  return fs.readFileSync(file, 'utf8');
}

function seedInfo(content: string): { document: string; version: string } {
  const ref = /^Referenzierung (\S+)\s*$/m.exec(content);
  const ver = /^Version (\d+\.\d+\.\d+)\s*$/m.exec(content);
  if (!ref || !ver) throw new CatalogueParseError('seed lacks "Referenzierung" or "Version"');
  return { document: ref[1], version: ver[1] };
}

export interface GeneratedCatalogue {
  requirements: RequirementsFile;
  useCases: UseCasesFile;
  /** Serialised file contents, exactly as written. */
  files: Record<string, string>;
}

export function generateCatalogue(sharedDir: string = SHARED_DIR): GeneratedCatalogue {
  const seed = read(sharedDir, SEED_FILE);
  const info = seedInfo(seed);
  const built = buildSeedCatalogue(seed, SEED_FILE);

  if (built.startLines !== EXPECTED_REQUIREMENTS || built.requirements.length !== EXPECTED_REQUIREMENTS) {
    throw new CatalogueParseError(
      `expected ${EXPECTED_REQUIREMENTS} requirements, found ${built.startLines} start lines and ${built.requirements.length} closed blocks`,
    );
  }
  const ids = new Set(built.requirements.map((r) => r.id));
  if (ids.size !== built.requirements.length) throw new CatalogueParseError('duplicate requirement ids');
  const strayOutsideMethod = built.strayMarkers.filter((m) => m.chapter?.number !== '1.5.1');
  if (strayOutsideMethod.length > 0) {
    throw new CatalogueParseError(`[<=] markers outside requirements at lines ${strayOutsideMethod.map((m) => m.line).join(', ')}`);
  }
  const notes = [
    `The seed holds ${built.requirements.length + built.strayMarkers.length} "[<=]" markers: ` +
      `${built.requirements.length} close the requirements, ${built.strayMarkers.length} stand in chapter 1.5.1 ` +
      `(Methodik, lines ${built.strayMarkers.map((m) => m.line).join(' and ')}), where the notation ` +
      '"<AFO-ID> - <Titel der Afo> … [<=]" is explained; they close no requirement.',
    'Requirement text: everything between the title line and "[<=]" with the marker removed; ' +
      'per line non-breaking spaces and tabs become spaces, space runs collapse, lines are trimmed, ' +
      'runs of blank lines collapse to one.',
  ];

  const poppSeed = read(sharedDir, POPP_SEED_FILE);
  const poppMd = read(sharedDir, POPP_SCENARIOS_FILE);
  const poppOverview = read(sharedDir, POPP_OVERVIEW_FILE);
  if (!/ZETA Client/.test(poppOverview) || !/SMC-B/.test(poppOverview)) {
    throw new CatalogueParseError(`${POPP_OVERVIEW_FILE} no longer describes the ZETA Client with SMC-B`);
  }
  const popp: UseCaseRecord[] = parsePoppScenarios(poppMd).map((p) => {
    if (!poppSeed.includes(p.id)) throw new CatalogueParseError(`${p.id} is not named in ${POPP_SEED_FILE}`);
    const cond = POPP_CONDITIONS[p.id];
    if (!cond) throw new CatalogueParseError(`no conditions defined for ${p.id}`);
    return {
      id: p.id,
      number: p.id.slice('UC_'.length),
      name: p.name,
      preconditions: cond.preconditions,
      description: [p.intro, ...p.steps.map((s, i) => `${i + 1}. ${s}`)].join('\n'),
      postconditions: cond.postconditions,
      definedBy: null,
      chapter: null,
      source: POPP_SCENARIOS_FILE,
      sourceLine: p.line,
      origin: 'prose',
    };
  });
  for (const id of Object.keys(POPP_CONDITIONS)) {
    if (!popp.some((u) => u.id === id)) throw new CatalogueParseError(`${id} not found in ${POPP_SCENARIOS_FILE}`);
  }
  const useCaseList = [...built.useCases, ...popp];
  if (useCaseList.length !== EXPECTED_USE_CASES) {
    throw new CatalogueParseError(`expected ${EXPECTED_USE_CASES} use cases, found ${useCaseList.length}`);
  }

  const seedSource: SourceInfo = { ...info, file: SEED_FILE, sha256: sha256(seed) };
  const requirements: RequirementsFile = {
    source: seedSource,
    count: built.requirements.length,
    notes,
    requirements: built.requirements,
  };
  const useCases: UseCasesFile = {
    sources: [
      seedSource,
      { document: 'PoPP-Client Implementierungsleitfaden (Einleitung)', version: 'Stufe 1', file: POPP_SEED_FILE, sha256: sha256(poppSeed) },
      { document: 'PoPP-Client Implementierungsleitfaden (Versorgungsszenarien)', version: 'Stufe 1', file: POPP_SCENARIOS_FILE, sha256: sha256(poppMd) },
      { document: 'PoPP-Client Implementierungsleitfaden (Systemüberblick)', version: 'Stufe 1', file: POPP_OVERVIEW_FILE, sha256: sha256(poppOverview) },
    ],
    count: useCaseList.length,
    useCases: useCaseList,
  };
  return {
    requirements,
    useCases,
    files: {
      [REQUIREMENTS_FILE]: `${JSON.stringify(requirements, null, 2)}\n`,
      [USE_CASES_FILE]: `${JSON.stringify(useCases, null, 2)}\n`,
    },
  };
}

/** Names of the files under `dir` whose content differs from the generated one. */
export function staleFiles(generated: GeneratedCatalogue, dir: string = CATALOGUE_DIR): string[] {
  return Object.entries(generated.files)
    .filter(([name, content]) => {
      const file = path.join(dir, name);
      return !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== content;
    })
    .map(([name]) => name);
}

export function main(argv: string[]): number {
  const check = argv.includes('--check');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`usage: generate.ts [--check]\nunknown argument(s): ${unknown.join(' ')}\n`);
    return 2;
  }
  let generated: GeneratedCatalogue;
  try {
    generated = generateCatalogue();
  } catch (e) {
    process.stderr.write(`catalogue: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  if (check) {
    const stale = staleFiles(generated);
    if (stale.length > 0) {
      process.stderr.write(
        `catalogue: out of date: ${stale.map((s) => `reports/catalogue/${s}`).join(', ')} — run \`npm run catalogue:generate\`\n`,
      );
      return 1;
    }
    try {
      // The hand-kept files must still fit the generated data.
      loadCatalogue({ fresh: true });
    } catch (e) {
      process.stderr.write(`catalogue: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
    process.stdout.write(
      `catalogue: up to date (${generated.requirements.count} requirements, ${generated.useCases.count} use cases)\n`,
    );
    return 0;
  }
  for (const [name, content] of Object.entries(generated.files)) {
    fs.writeFileSync(path.join(CATALOGUE_DIR, name), content);
  }
  process.stdout.write(
    `catalogue: wrote reports/catalogue/${REQUIREMENTS_FILE} (${generated.requirements.count} requirements) ` +
      `and reports/catalogue/${USE_CASES_FILE} (${generated.useCases.count} use cases)\n`,
  );
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === __filename) {
  process.exitCode = main(process.argv.slice(2));
}
