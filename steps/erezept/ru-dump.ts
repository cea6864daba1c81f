/**
 * The reference-environment dumps (../shared/reference/ru-dumps/<Hauptdarsteller>/<scenario>/): gematik's own
 * E2E suite recorded against the real reference environment. This module reads a scenario's index.json and
 * the body of one numbered step and says what the Fachdienst answered there: the HTTP status (from the
 * "Response <status>: …" operation line) and, for an OperationOutcome (XML or JSON), the issue texts
 * (details.text, else diagnostics) and the diagnostics. Features compare our Fachdienst's answers to these.
 *
 *   const dump = loadRuDump('Apotheke/dispensieren_mit_falschem_secret_nicht_möglich');
 *   dump.response(9)   // { status: 403, texts: ['No or invalid secret provided for Task'], diagnostics: [], request: 'POST /Task/<id>/$close?secret=…', … }
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseFhir, type FhirJson } from '../../simulators/lib/fhir';
import { sharedPath } from '../../simulators/lib/shared-data';
import { TestDefectError } from '../support/errors';

export interface RuDumpEntry {
  /** The file's step number (the leading digits of its name, e.g. 9 for 009_Response_OperationOutcome.xml). */
  number: number;
  operation: string;
  /** Path relative to the ru-dumps folder. */
  file: string;
  /** The scenario step the entry belongs to. */
  step: string;
}

export interface RecordedResponse {
  number: number;
  status: number;
  /** Resource type of the answer ("OperationOutcome", "Bundle", "Task", …). */
  resourceType: string;
  /** OperationOutcome issue texts: details.text, else diagnostics; empty for other resources. */
  texts: string[];
  /** OperationOutcome issue diagnostics, where given. */
  diagnostics: string[];
  /** The request this answers (the entry before it), when recorded: "POST /Task/…/$close?secret=…". */
  request?: string;
  /**
   * For a Bundle recorded as JSON (the insured's answers: the FdV asks for JSON): its entries in order as
   * `resourceType` with `:status` for Task and MedicationDispense — e.g. ['Task:ready', 'Bundle'] for
   * GET /Task/<id>, ['MedicationDispense:completed', 'Medication'] for GET /MedicationDispense (bundleShape).
   */
  shape?: string[];
  file: string;
}

export interface RuDump {
  /** "<Hauptdarsteller>/<dir>" */
  ref: string;
  name: string;
  tags: string[];
  entries: RuDumpEntry[];
  response(number: number): RecordedResponse;
}

/** The folder of the dumps (../shared/reference/ru-dumps; TI_SHARED_DIR points elsewhere). */
export function ruDumpRoot(): string {
  return sharedPath('reference', 'ru-dumps');
}

interface IndexJson {
  name: string;
  tags?: string[];
  steps: Array<{ name: string; dumps?: Array<{ operation: string; file: string }> }>;
}

const cache = new Map<string, RuDump>();

/** Loads `<Hauptdarsteller>/<dir>` (a TestDefectError when it does not exist). */
export function loadRuDump(ref: string): RuDump {
  const known = cache.get(ref);
  if (known) return known;
  const root = ruDumpRoot();
  const dir = path.join(root, ref);
  const indexFile = path.join(dir, 'index.json');
  if (!ref || ref.includes('..') || !fs.existsSync(indexFile)) throw new TestDefectError(`no reference-environment dump ${ref} (${indexFile})`);
  const index = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as IndexJson;
  const entries: RuDumpEntry[] = [];
  for (const step of index.steps) {
    for (const d of step.dumps ?? []) {
      const m = /^(\d{3})_/.exec(path.basename(d.file));
      if (m) entries.push({ number: Number(m[1]), operation: d.operation, file: d.file, step: step.name });
    }
  }
  const dump: RuDump = {
    ref,
    name: index.name,
    tags: index.tags ?? [],
    entries,
    response(number: number): RecordedResponse {
      const i = entries.findIndex((e) => e.number === number && /^Response \d{3}\b/.test(e.operation));
      if (i < 0) throw new TestDefectError(`dump ${ref} records no response as step ${String(number).padStart(3, '0')}`);
      const e = entries[i];
      const m = /^Response (\d{3}): (\w+)/.exec(e.operation) as RegExpExecArray;
      const prev = entries[i - 1];
      const request = prev && /^(GET|POST|PUT|PATCH|DELETE) /.test(prev.operation) ? prev.operation : undefined;
      const outcome = m[2] === 'OperationOutcome' ? readOutcome(path.join(root, e.file)) : { texts: [], diagnostics: [] };
      const shape = m[2] === 'Bundle' && e.file.endsWith('.json') ? bundleShape(JSON.parse(fs.readFileSync(path.join(root, e.file), 'utf8')) as FhirJson) : undefined;
      return { number, status: Number(m[1]), resourceType: m[2], ...outcome, ...(request ? { request } : {}), ...(shape ? { shape } : {}), file: e.file };
    },
  };
  cache.set(ref, dump);
  return dump;
}

/** A Bundle's entries in order: resourceType, with `:status` for Task and MedicationDispense. */
export function bundleShape(bundle: FhirJson): string[] {
  return ((bundle.entry as FhirJson[] | undefined) ?? []).map((e) => {
    const r = (e.resource as FhirJson | undefined) ?? {};
    const type = typeof r.resourceType === 'string' ? r.resourceType : '?';
    return type === 'Task' || type === 'MedicationDispense' ? `${type}:${String(r.status)}` : type;
  });
}

function readOutcome(file: string): { texts: string[]; diagnostics: string[] } {
  const text = fs.readFileSync(file, 'utf8');
  const oo = parseFhir(text, file.endsWith('.json') ? 'application/fhir+json' : 'application/fhir+xml');
  if (oo.resourceType !== 'OperationOutcome') throw new TestDefectError(`${file} is no OperationOutcome`);
  const issues = (oo.issue as FhirJson[] | undefined) ?? [];
  const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  return {
    texts: issues.map((i) => (i.details as FhirJson | undefined)?.text ?? i.diagnostics).filter(str),
    diagnostics: issues.map((i) => i.diagnostics).filter(str),
  };
}

/**
 * A recorded text with its calendar dates (dd.mm.yyyy) moved by `shiftDays`: the reference environment ran on
 * 2025-03-28, our scenario runs today, and texts like "Teilverordnung ab 26.06.2025 einlösbar." name a date
 * relative to the day of prescription.
 */
export function shiftGermanDates(text: string, shiftDays: number): string {
  if (!shiftDays) return text;
  return text.replace(/\b(\d{2})\.(\d{2})\.(\d{4})\b/g, (_all, d: string, m: string, y: string) => {
    const t = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d) + shiftDays));
    return `${String(t.getUTCDate()).padStart(2, '0')}.${String(t.getUTCMonth() + 1).padStart(2, '0')}.${t.getUTCFullYear()}`;
  });
}

/** The day the dump's prescriptions were authored (MedicationRequest.authoredOn of its first signed document). */
export function ruDumpAuthoredOn(dump: RuDump): string | undefined {
  const doc = dump.entries.find((e) => e.operation.startsWith('Document to sign'));
  if (!doc) return undefined;
  const xml = fs.readFileSync(path.join(ruDumpRoot(), doc.file), 'utf8');
  return /<authoredOn value="(\d{4}-\d{2}-\d{2})/.exec(xml)?.[1];
}
