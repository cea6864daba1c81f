/**
 * Test support: "is it deleted in the database itself, not only hidden by the API?" Opens the
 * Fachdienst's SQLite file READ-ONLY (never writes, never locks writers out: WAL readers run beside
 * the service) and looks for strings (PrescriptionID, KVNR, AccessCode, …) in every text and blob
 * value of every table. The file is `<dataDir>/fachdienst/fachdienst.sqlite` for `ti-harness up`
 * (dataDir from the environment file; a test's own service: `<its dataDir>/fachdienst.sqlite`).
 *
 * Rows are read through SQLite, so the committed content (including the WAL) is what is scanned; pages
 * SQLite freed are not (no secure_delete/VACUUM — deleted rows are gone for every reader).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';

export interface StorageHit {
  table: string;
  column: string;
  /** The row's rowid (or primary key value when the table has no rowid). */
  row: string;
  needle: string;
}

export interface StorageScanOptions {
  /** Tables to leave out (e.g. "audit_events", whose entries legitimately name the PrescriptionID for 3 years, A_18937). */
  ignoreTables?: readonly string[];
}

/** The Fachdienst database file of a harness data directory (`dataDir` of the environment). */
export function fachdienstDatabaseFile(envDataDir: string): string {
  return path.join(envDataDir, 'fachdienst', 'fachdienst.sqlite');
}

/** Every occurrence of any needle in any text/blob value of any table (empty: nothing stored). */
export function scanStorage(file: string, needles: readonly string[], opts: StorageScanOptions = {}): StorageHit[] {
  if (!needles.length || needles.some((n) => !n)) throw new Error('scanStorage: needles must be non-empty strings');
  if (!fs.existsSync(file)) throw new Error(`scanStorage: no database file ${file}`);
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    const ignore = new Set(opts.ignoreTables ?? []);
    const tables = db
      .prepare<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all()
      .map((t) => t.name)
      .filter((t) => !ignore.has(t));
    const hits: StorageHit[] = [];
    const bufNeedles = needles.map((n) => ({ n, b: Buffer.from(n, 'utf8') }));
    for (const table of tables) {
      const q = `"${table.replace(/"/g, '""')}"`;
      const rows = db.prepare<Record<string, unknown>>(`SELECT rowid AS __rowid, * FROM ${q}`).all();
      for (const row of rows) {
        for (const [column, value] of Object.entries(row)) {
          if (column === '__rowid') continue;
          for (const { n, b } of bufNeedles) {
            const found = typeof value === 'string' ? value.includes(n) : Buffer.isBuffer(value) ? value.includes(b) : false;
            if (found) hits.push({ table, column, row: String(row.__rowid), needle: n });
          }
        }
      }
    }
    return hits;
  } finally {
    db.close();
  }
}
