/**
 * Parser for gemSysL_eRp (the seed text) and the PoPP use-case prose.
 *
 * Pure functions over strings: no file access, no clock. generate.ts feeds the
 * files in and writes the JSON; the unit tests call these directly.
 *
 * Seed format (gemSysL_eRp 1.5.1): a requirement is everything from the line
 * `A_xxxxx - <Titel>` up to the next `[<=]` marker. Two further `[<=]`
 * markers stand in chapter 1.5.1 (Methodik), where the notation itself is
 * explained (the template `<AFO-ID> - <Titel der Afo> … [<=]` and the prose
 * "… und der Textmarke [<=] angeführten Inhalte"); they close no requirement.
 */
import type { ChapterRef, RequirementRecord, UseCaseBasis, UseCaseRecord } from './types';
import { productsFor } from './products';
import { CatalogueParseError, findKeywords, joinLines, normalizeLine, obligationsOf } from './text';

export { CatalogueParseError } from './text';

export const REQUIREMENT_START = /^A_\d{5} - /;
const REQUIREMENT_LINE = /^(A_\d{5}) - (.+)$/;
const END_MARKER = '[<=]';
const HEADING_LINE = /^(\d+(?:\.\d+)*) (\S.*)$/;

interface Heading {
  parts: number[];
  title: string;
  line: number;
}

/** A numbered heading is accepted only as the next child, sibling or ancestor-sibling of the current one. */
function isSuccessor(prev: number[], next: number[]): boolean {
  if (next.length === 0 || next.length > prev.length + 1) return false;
  for (let i = 0; i < next.length - 1; i++) if (next[i] !== prev[i]) return false;
  const last = next.length - 1;
  const before = last < prev.length ? prev[last] : 0;
  return next[last] === before + 1;
}

export interface ParsedRequirement {
  id: string;
  title: string;
  chapter: ChapterRef;
  sourceLine: number;
  /** Normalised body lines with their 1-based source line. */
  body: { text: string; line: number }[];
  text: string;
}

export interface StrayMarker {
  line: number;
  chapter: ChapterRef | null;
}

export interface ParsedSeed {
  requirements: ParsedRequirement[];
  headings: { number: string; title: string; line: number }[];
  /** `[<=]` markers outside any requirement block. */
  strayMarkers: StrayMarker[];
  /** Number of lines matching `^A_[0-9]{5} - ` (grep -cE semantics). */
  startLines: number;
}

function chapterOf(h: Heading | undefined): ChapterRef | null {
  return h ? { number: h.parts.join('.'), title: h.title } : null;
}

export function parseSeed(content: string): ParsedSeed {
  const lines = content.split('\n');
  const headings: Heading[] = [];
  const requirements: ParsedRequirement[] = [];
  const strayMarkers: StrayMarker[] = [];
  let startLines = 0;
  let current: ParsedRequirement | null = null;

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const lineNo = i + 1;
    const norm = normalizeLine(raw);
    if (current) {
      if (REQUIREMENT_START.test(raw)) {
        throw new CatalogueParseError(`line ${lineNo}: requirement starts before ${current.id} (line ${current.sourceLine}) is closed by ${END_MARKER}`);
      }
      const at = norm.indexOf(END_MARKER);
      if (at >= 0) {
        if (at + END_MARKER.length !== norm.length) {
          throw new CatalogueParseError(`line ${lineNo}: text after ${END_MARKER} in ${current.id}`);
        }
        const rest = normalizeLine(norm.slice(0, at));
        current.body.push({ text: rest, line: lineNo });
        current.text = joinLines(current.body.map((b) => b.text));
        requirements.push(current);
        current = null;
      } else {
        current.body.push({ text: norm, line: lineNo });
      }
      continue;
    }
    const req = REQUIREMENT_LINE.exec(raw);
    if (req) {
      startLines++;
      const chapter = chapterOf(headings[headings.length - 1]);
      if (!chapter) throw new CatalogueParseError(`line ${lineNo}: ${req[1]} stands before the first numbered heading`);
      current = { id: req[1], title: normalizeLine(req[2]), chapter, sourceLine: lineNo, body: [], text: '' };
      continue;
    }
    if (norm.includes(END_MARKER)) {
      strayMarkers.push({ line: lineNo, chapter: chapterOf(headings[headings.length - 1]) });
      continue;
    }
    const h = HEADING_LINE.exec(raw);
    if (h) {
      const parts = h[1].split('.').map(Number);
      const prev = headings.length > 0 ? headings[headings.length - 1].parts : [];
      if (isSuccessor(prev, parts)) headings.push({ parts, title: normalizeLine(h[2]), line: lineNo });
    }
  }
  if (current) throw new CatalogueParseError(`${current.id} (line ${current.sourceLine}) is never closed by ${END_MARKER}`);
  return {
    requirements,
    headings: headings.map((h) => ({ number: h.parts.join('.'), title: h.title, line: h.line })),
    strayMarkers,
    startLines,
  };
}

// ---------------------------------------------------------------------------
// Use-case tables (chapter 3)

const UC_NAME_ROW = /^Name UC (\d+\.\d+) - (.+)$/;

export interface ParsedUseCaseTable {
  number: string;
  name: string;
  preconditions: string[];
  description: string;
  postconditions: string[];
  line: number;
}

function stripBullet(s: string): string {
  return s.replace(/^• ?/, '').trim();
}

/** Reads the `Name UC x.y - …` table inside a requirement body, or null if it holds none. */
export function parseUseCaseTable(body: { text: string; line: number }[]): ParsedUseCaseTable | null {
  const start = body.findIndex((b) => UC_NAME_ROW.test(b.text));
  if (start < 0) return null;
  const m = UC_NAME_ROW.exec(body[start].text)!;
  const rows = body.slice(start + 1).filter((b) => b.text !== '');
  const pre: string[] = [];
  const desc: string[] = [];
  const post: string[] = [];
  let section: 'none' | 'pre' | 'desc' | 'post' = 'none';
  for (const { text, line } of rows) {
    if (section !== 'post' && /^Vorbedingung\b/.test(text)) {
      section = 'pre';
      const rest = text.slice('Vorbedingung'.length).trim();
      if (rest) pre.push(stripBullet(rest));
      continue;
    }
    if (section !== 'post' && /^Kurzbeschreibung\b/.test(text)) {
      section = 'desc';
      const rest = text.slice('Kurzbeschreibung'.length).trim().replace(/^\((?:Außenansicht|Außensicht)\)/, '').trim();
      if (rest) desc.push(rest);
      continue;
    }
    if (section === 'desc' && /^\((?:Außenansicht|Außensicht)\)$/.test(text)) continue;
    if (/^Nachbedingung\b/.test(text)) {
      section = 'post';
      const rest = text.slice('Nachbedingung'.length).trim();
      if (rest) post.push(stripBullet(rest));
      continue;
    }
    if (section === 'pre') pre.push(stripBullet(text));
    else if (section === 'desc') desc.push(text);
    else if (section === 'post') post.push(stripBullet(text));
    else throw new CatalogueParseError(`line ${line}: unexpected row before "Vorbedingung" in UC ${m[1]}`);
  }
  if (desc.length === 0 || post.length === 0) {
    throw new CatalogueParseError(`line ${body[start].line}: UC ${m[1]} table lacks Kurzbeschreibung or Nachbedingung`);
  }
  const preconditions = pre.length === 1 && /^keine$/i.test(pre[0]) ? [] : pre;
  return {
    number: m[1],
    name: m[2].trim(),
    preconditions,
    description: desc.join('\n'),
    postconditions: post,
    line: body[start].line,
  };
}

export function compareUseCaseNumbers(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Logical operations of chapter 4.3 whose name differs from the use case they
 * serve (TAB_SYSLERP_019 / the use-case descriptions): "E-Rezept-ID abrufen"
 * is the Fachdienst call inside UC 2.1 (see 2.4.7), message operations serve
 * both the insured's and the pharmacy's message use cases, the challenge and
 * consent operations serve both AuthN-token use cases.
 */
export const OPERATION_USE_CASES: Record<string, string[]> = {
  'E-Rezept-ID abrufen': ['UC_2.1'],
  'E-Rezept-Nachricht einstellen': ['UC_3.3', 'UC_4.7'],
  'E-Rezept-Nachricht abrufen': ['UC_3.4', 'UC_4.6'],
  'E-Rezept-Nachrichten abrufen': ['UC_3.4', 'UC_4.6'],
  'E-Rezept-Nachricht löschen': ['UC_3.8', 'UC_4.9'],
  'Zugriffsprotokolleinträge durch Versicherten abrufen': ['UC_3.5'],
  'signierte Challenge übergeben': ['UC_5.1', 'UC_5.2'],
  'Einwilligung erteilen': ['UC_5.1', 'UC_5.2'],
};

// ---------------------------------------------------------------------------
// Assembly

export interface SeedCatalogue {
  requirements: RequirementRecord[];
  useCases: UseCaseRecord[];
  strayMarkers: StrayMarker[];
  startLines: number;
  headings: { number: string; title: string; line: number }[];
}

export function buildSeedCatalogue(content: string, sourceFile: string): SeedCatalogue {
  const seed = parseSeed(content);

  const tables = new Map<string, { table: ParsedUseCaseTable; req: ParsedRequirement }>();
  for (const r of seed.requirements) {
    const t = parseUseCaseTable(r.body);
    if (!t) continue;
    const id = `UC_${t.number}`;
    if (tables.has(id)) throw new CatalogueParseError(`${id} defined twice (${tables.get(id)!.req.id}, ${r.id})`);
    tables.set(id, { table: t, req: r });
  }
  const useCases: UseCaseRecord[] = [...tables.entries()]
    .sort(([, a], [, b]) => compareUseCaseNumbers(a.table.number, b.table.number))
    .map(([id, { table, req }]) => ({
      id,
      number: table.number,
      name: table.name,
      preconditions: table.preconditions,
      description: table.description,
      postconditions: table.postconditions,
      definedBy: req.id,
      chapter: req.chapter,
      source: sourceFile,
      sourceLine: table.line,
      origin: 'table' as const,
    }));
  const ucOrder = new Map(useCases.map((u, i) => [u.id, i]));
  const byName = new Map(useCases.map((u) => [u.name, u.id]));
  const definedIn = new Map<string, string>(); // chapter number -> UC id
  for (const [id, { req }] of tables) {
    if (req.chapter.number.startsWith('3.')) definedIn.set(req.chapter.number, id);
  }

  const requirements: RequirementRecord[] = seed.requirements.map((r) => {
    const whole = `${r.title}\n${r.text}`;
    const refs = new Set<string>();
    let defines: string | null = null;
    for (const [id, { req }] of tables) if (req.id === r.id) defines = id;
    if (defines) refs.add(defines);
    for (const m of whole.matchAll(/\bUC (\d+\.\d+)\b/g)) {
      const id = `UC_${m[1]}`;
      if (!tables.has(id)) throw new CatalogueParseError(`${r.id} refers to unknown ${id}`);
      refs.add(id);
    }
    for (const m of whole.matchAll(/"([^"\n]+)"/g)) {
      const q = m[1].trim();
      const direct = byName.get(q);
      if (direct) refs.add(direct);
      for (const id of OPERATION_USE_CASES[q] ?? []) refs.add(id);
    }
    const related = [...refs].sort((a, b) => ucOrder.get(a)! - ucOrder.get(b)!);
    let useCase: string | null = null;
    let basis: UseCaseBasis | null = null;
    const sectionUc = definedIn.get(r.chapter.number);
    if (defines) {
      useCase = defines;
      basis = 'defines';
    } else if (sectionUc) {
      useCase = sectionUc;
      basis = 'section';
    } else if (related.length === 1) {
      useCase = related[0];
      basis = 'names';
    }
    const keywords = findKeywords(r.text);
    if (keywords.length === 0) throw new CatalogueParseError(`${r.id} holds no RFC 2119 keyword`);
    const table = defines ? tables.get(defines)!.table : null;
    return {
      id: r.id,
      title: r.title,
      chapter: r.chapter,
      sourceLine: r.sourceLine,
      obligations: obligationsOf(keywords),
      keywords,
      products: productsFor({
        id: r.id,
        chapter: r.chapter.number,
        text: r.text,
        useCaseNumber: table?.number ?? null,
        useCaseText: table ? [table.name, ...table.preconditions, table.description, ...table.postconditions].join('\n') : null,
      }),
      useCase,
      useCaseBasis: basis,
      relatedUseCases: related,
      text: r.text,
    };
  });

  return { requirements, useCases, strayMarkers: seed.strayMarkers, startLines: seed.startLines, headings: seed.headings };
}

// ---------------------------------------------------------------------------
// PoPP use cases (prose, shared/reference/popp/ilf/20_versorgungsszenarien.md)

export interface PoppProse {
  id: string;
  name: string;
  /** Intro paragraph (normalised, joined). */
  intro: string;
  /** Numbered steps, normalised. */
  steps: string[];
  line: number;
}

/** Reads the `## … (UC_PoPP_xx)` sections: heading, intro paragraph, numbered steps. */
export function parsePoppScenarios(md: string): PoppProse[] {
  const lines = md.split('\n');
  const out: PoppProse[] = [];
  for (let i = 0; i < lines.length; i++) {
    const h = /^## (.+) \((UC_PoPP_\w+)\)\s*$/.exec(lines[i]);
    if (!h) continue;
    const intro: string[] = [];
    const steps: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^#/.test(lines[j]); j++) {
      const t = normalizeLine(lines[j]);
      if (t === '') continue;
      const step = /^(\d+)\. (.+)$/.exec(t);
      if (step) steps.push(step[2]);
      else if (steps.length > 0) steps[steps.length - 1] += ` ${t}`;
      else intro.push(t);
    }
    out.push({ id: h[2], name: normalizeLine(h[1]), intro: intro.join(' '), steps, line: i + 1 });
  }
  return out;
}
