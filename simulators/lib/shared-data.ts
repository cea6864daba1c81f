/**
 * Location of the shared specification and reference data (gematik seeds,
 * reference bundles, card images, QES samples, FHIR packages). It is not part
 * of the repository: every developer and CI has it at `../shared` next to the
 * project; TI_SHARED_DIR points elsewhere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export const SHARED_DIR = path.resolve(process.env.TI_SHARED_DIR || path.join(PROJECT_ROOT, '..', 'shared'));

export class SharedDataError extends Error {
  override name = 'SharedDataError';
}

/** Absolute path of a file or folder in the shared data; a clear error if the shared folder is absent. */
export function sharedPath(...parts: string[]): string {
  if (!fs.existsSync(SHARED_DIR)) {
    throw new SharedDataError(
      `shared reference data not found at ${SHARED_DIR}: the harness expects gematik's specification and reference material in ../shared next to the project (or set TI_SHARED_DIR)`,
    );
  }
  return path.join(SHARED_DIR, ...parts);
}
