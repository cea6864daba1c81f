/**
 * Text helpers of the catalogue parser: whitespace normalisation, sentence
 * splitting and the RFC 2119 keyword scan.
 */
import { KEYWORDS, KEYWORD_OBLIGATION, OBLIGATIONS, type Keyword, type Obligation } from './types';

export class CatalogueParseError extends Error {
  override name = 'CatalogueParseError';
}

/** Whitespace normalisation applied to every line: odd spaces to space, runs collapsed, trimmed. */
export function normalizeLine(line: string): string {
  return line.replace(/[\u00A0\u2007\u2009\u202F\t]/g, ' ').replace(/ {2,}/g, ' ').trim();
}

/** Joins normalised lines: blank-line runs collapse to one, leading/trailing blanks dropped. */
export function joinLines(lines: string[]): string {
  const out: string[] = [];
  for (const l of lines) {
    if (l === '' && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(l);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}

// ---------------------------------------------------------------------------
// Obligations

const LETTER = '\\p{L}\\p{N}_';

function keywordRegex(word: string): RegExp {
  return new RegExp(`(?<![${LETTER}-])${word}(?![${LETTER}-])`, 'gu');
}

const SIMPLE = ['MUSS', 'MÜSSEN', 'SOLL', 'SOLLEN', 'KANN', 'KÖNNEN', 'DARF', 'DÜRFEN'] as const;
const NICHT = keywordRegex('NICHT');

/**
 * Finds the RFC 2119 keywords written in upper case.
 *
 * "DARF … NICHT" / "SOLL … NICHT" count as the negated form when an upper-case
 * NICHT follows later in the same sentence (gemSysL writes both "DARF NICHT"
 * and "DARF ein E-Rezept NICHT …"); a negated form is not also counted as its
 * positive form. A bare upper-case DARF/DÜRFEN (no NICHT) is not an RFC 2119
 * keyword of the spec and is rejected.
 */
export function findKeywords(text: string): Keyword[] {
  const found = new Set<Keyword>();
  for (const sentence of splitSentences(text)) {
    const hits: { word: string; index: number }[] = [];
    for (const w of SIMPLE) {
      for (const m of sentence.matchAll(keywordRegex(w))) hits.push({ word: w, index: m.index ?? 0 });
    }
    hits.sort((a, b) => a.index - b.index);
    const nichts = [...sentence.matchAll(NICHT)].map((m) => m.index ?? 0);
    for (let k = 0; k < hits.length; k++) {
      const { word, index } = hits[k];
      const nextHit = k + 1 < hits.length ? hits[k + 1].index : Infinity;
      const negated = nichts.some((n) => n > index && n < nextHit);
      let kw: string = word;
      if (word === 'DARF' || word === 'DÜRFEN') {
        if (!negated) throw new CatalogueParseError(`upper-case ${word} without NICHT: "${sentence}"`);
        kw = `${word} NICHT`;
      } else if ((word === 'SOLL' || word === 'SOLLEN') && negated) {
        kw = `${word} NICHT`;
      }
      found.add(kw as Keyword);
    }
  }
  return KEYWORDS.filter((k) => found.has(k));
}

export function obligationsOf(keywords: Keyword[]): Obligation[] {
  const set = new Set(keywords.map((k) => KEYWORD_OBLIGATION[k]));
  return OBLIGATIONS.filter((o) => set.has(o));
}

/**
 * Splits text into sentences: at line breaks and at ". " / "! " / "? " followed
 * by an upper-case letter, except after common abbreviations (z. B., d. h., bzw., ggf.).
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let start = 0;
    const re = /[.!?] (?=[A-ZÄÖÜ])/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(line))) {
      const before = line.slice(Math.max(0, m.index - 8), m.index + 1);
      // a single lower-case letter ("z. B.", "d. h.") or a known abbreviation ends no sentence
      if (/(?:^|[\s(])\p{Ll}\.$/u.test(before)) continue;
      if (/(?:\bz\. ?B\.|\bd\. ?h\.|\bbzw\.|\bggf\.|\bggfs\.|\bvgl\.|\bu\.a\.|\bbspw\.|\binsbes\.)$/.test(before)) continue;
      out.push(line.slice(start, m.index + 1).trim());
      start = m.index + 2;
    }
    const tail = line.slice(start).trim();
    if (tail) out.push(tail);
  }
  return out;
}

/** The normative sentences (those holding a keyword) with the text before the first keyword (the subject). */
export function normativeSentences(text: string): { sentence: string; subject: string; keyword: string }[] {
  const res: { sentence: string; subject: string; keyword: string }[] = [];
  for (const s of splitSentences(text)) {
    let best: { index: number; word: string } | null = null;
    for (const w of SIMPLE) {
      const m = keywordRegex(w).exec(s);
      if (m && (best === null || (m.index ?? 0) < best.index)) best = { index: m.index ?? 0, word: w };
    }
    if (best) res.push({ sentence: s, subject: s.slice(0, best.index).trim().replace(/,$/, ''), keyword: best.word });
  }
  return res;
}

