/**
 * Output formats of the catalogue for the CLI (`ti-harness catalogue [--json|--md]`).
 */
import type { Catalogue, InfraCheck, Requirement, UseCase } from './catalogue';
import type { SourceInfo } from './types';

export interface CatalogueJson {
  source: SourceInfo;
  requirementCount: number;
  useCaseCount: number;
  classification: { executable: number; documented: number };
  requirements: Requirement[];
  useCases: UseCase[];
  infrastructure: InfraCheck[];
}

/** Plain data (no functions), ready for JSON.stringify. */
export function catalogueToJson(c: Catalogue): CatalogueJson {
  return {
    source: c.source,
    requirementCount: c.requirements.length,
    useCaseCount: c.useCases.length,
    classification: { executable: c.counts.executable, documented: c.counts.documented },
    requirements: c.requirements,
    useCases: c.useCases,
    infrastructure: c.infrastructure,
  };
}

/** Escapes a value for a Markdown table cell. */
function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n+/g, ' ');
}

function compareChapters(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function list(items: string[]): string[] {
  return items.length === 0 ? ['- (keine)'] : items.map((i) => `- ${i}`);
}

/** Readable overview: per chapter a table of the requirements, then the use cases and infrastructure checks. */
export function catalogueToMarkdown(c: Catalogue): string {
  const out: string[] = [];
  out.push(`# Requirement catalogue — ${c.source.document} ${c.source.version}`);
  out.push('');
  out.push(
    `${c.counts.requirements} requirements (${c.counts.executable} executable, ${c.counts.documented} documented) · ` +
      `${c.counts.useCases} use cases · ${c.counts.infrastructure} infrastructure checks (not counted toward the ${c.counts.requirements})`,
  );
  out.push('');
  out.push(`Source: \`${c.source.file}\` (sha256 \`${c.source.sha256.slice(0, 16)}…\`)`);

  const chapters = new Map<string, { title: string; reqs: Requirement[] }>();
  for (const r of c.requirements) {
    const ch = chapters.get(r.chapter.number) ?? { title: r.chapter.title, reqs: [] };
    ch.reqs.push(r);
    chapters.set(r.chapter.number, ch);
  }
  out.push('');
  out.push('## Requirements');
  for (const number of [...chapters.keys()].sort(compareChapters)) {
    const ch = chapters.get(number)!;
    out.push('');
    out.push(`### ${number} ${ch.title}`);
    out.push('');
    out.push('| ID | Title | Obligations | Products | UC | Classification |');
    out.push('|---|---|---|---|---|---|');
    for (const r of ch.reqs) {
      const uc = r.useCase ?? (r.relatedUseCases.length > 0 ? `(${r.relatedUseCases.join(', ')})` : '–');
      out.push(
        `| ${r.id} | ${cell(r.title)} | ${r.obligations.join(', ')} | ${cell(r.products.join(', '))} | ${uc} | ${r.classification} |`,
      );
    }
  }

  out.push('');
  out.push('## Use cases');
  for (const u of c.useCases) {
    out.push('');
    const origin = u.definedBy ? `${u.definedBy}, ${u.chapter ? `chapter ${u.chapter.number}` : u.source}` : u.source;
    out.push(`### ${u.id} — ${u.name}`);
    out.push('');
    out.push(`Defined by: ${origin}`);
    out.push('');
    out.push('**Vorbedingungen**');
    out.push('');
    out.push(...list(u.preconditions));
    out.push('');
    out.push('**Kurzbeschreibung**');
    out.push('');
    out.push(...u.description.split('\n').map((l) => (l ? `> ${l}` : '>')));
    out.push('');
    out.push('**Nachbedingungen**');
    out.push('');
    out.push(...list(u.postconditions));
  }

  out.push('');
  out.push(`## Infrastructure checks (reported separately, not among the ${c.counts.requirements})`);
  out.push('');
  out.push('| ID | Title | Source | AFO |');
  out.push('|---|---|---|---|');
  for (const i of c.infrastructure) {
    out.push(`| ${i.id} | ${cell(i.title)} | ${cell(i.source)} | ${i.afo ?? '–'} |`);
  }
  return `${out.join('\n')}\n`;
}
