/**
 * Reads the verify() records of a run: every `verify-*.ndjson` in the results
 * directory (one file per Cucumber worker process, written by steps/verify.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { VerifyRecord } from '../../steps/verify';

export interface RecordsResult {
  records: VerifyRecord[];
  /** Unreadable lines, as "file:line: reason". */
  problems: string[];
}

const STATUSES = new Set(['passed', 'failed', 'broken']);

function isRecord(v: unknown): v is VerifyRecord {
  if (!v || typeof v !== 'object') return false;
  const r = v as Partial<VerifyRecord>;
  return (
    typeof r.afoId === 'string' &&
    typeof r.description === 'string' &&
    typeof r.status === 'string' &&
    STATUSES.has(r.status) &&
    !!r.scenario &&
    typeof r.scenario.id === 'string'
  );
}

export function readVerifyRecords(dir: string): RecordsResult {
  const records: VerifyRecord[] = [];
  const problems: string[] = [];
  if (!fs.existsSync(dir)) return { records, problems };
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^verify-.*\.ndjson$/.test(f))
    .sort();
  for (const f of files) {
    const lines = fs.readFileSync(path.join(dir, f), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const v: unknown = JSON.parse(line);
        if (isRecord(v)) records.push(v);
        else problems.push(`${f}:${i + 1}: not a verify record`);
      } catch {
        problems.push(`${f}:${i + 1}: not JSON`);
      }
    });
  }
  return { records, problems };
}
