/**
 * A_18537: E-Rezept-Tokens exported to and imported from third-party apps (messenger, e-mail, files).
 *
 * Format (our choice, documented in docs/fdv.md): UTF-8 JSON, media type `application/json`,
 * suggested file name `<date>.erezept.json`, exactly one member `urls` holding 1 to
 * MAX_TOKENS_PER_FILE distinct E-Rezept-Tokens `Task/<PrescriptionID>/$accept?ac=<AccessCode>`:
 *
 *   {"urls":["Task/160.000.000.000.001.05/$accept?ac=4f…e1","Task/…"]}
 *
 * It is the DataMatrix payload (simulators/lib/erezept-token.ts) without the limit of 3 tokens per
 * code, so the text of a scanned code is also a valid file. Import is strict: anything else (other
 * members, a broken token, duplicates, too many tokens, too long a text) is refused with a
 * TokenFileError; nothing is imported from a refused file.
 */
import { formatToken, parseToken, type ERezeptToken } from '../lib/erezept-token';

export const TOKEN_FILE_MEDIA_TYPE = 'application/json';
export const TOKEN_FILE_SUFFIX = '.erezept.json';
export const MAX_TOKENS_PER_FILE = 100;
/** 100 tokens take about 10 000 characters; larger texts are refused before parsing. */
export const MAX_TOKEN_FILE_LENGTH = 16_384;

export class TokenFileError extends Error {
  override name = 'TokenFileError';
}

/** The file text for the tokens (compact JSON, tokens in the given order). */
export function exportTokens(tokens: readonly ERezeptToken[]): string {
  if (!Array.isArray(tokens) || tokens.length === 0) throw new TokenFileError('export: give at least one E-Rezept-Token');
  if (tokens.length > MAX_TOKENS_PER_FILE) throw new TokenFileError(`export: at most ${MAX_TOKENS_PER_FILE} E-Rezept-Tokens per file, got ${tokens.length}`);
  const urls = tokens.map(formatToken);
  if (new Set(tokens.map((t) => t.prescriptionId)).size !== tokens.length) throw new TokenFileError('export: a prescription appears more than once');
  return JSON.stringify({ urls });
}

/** The tokens of a file (text or bytes); TokenFileError for anything but the format above. */
export function importTokens(file: string | Buffer): ERezeptToken[] {
  const text = Buffer.isBuffer(file) ? file.toString('utf8') : file;
  if (typeof text !== 'string') throw new TokenFileError('import: the file must be text');
  if (text.length > MAX_TOKEN_FILE_LENGTH) throw new TokenFileError(`import: the file has ${text.length} characters, at most ${MAX_TOKEN_FILE_LENGTH}`);
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw new TokenFileError('import: the file is not JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new TokenFileError('import: the file is not a JSON object {"urls":[…]}');
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== 'urls') throw new TokenFileError(`import: the object must have exactly the member "urls", found ${JSON.stringify(keys)}`);
  const urls = (value as { urls: unknown }).urls;
  if (!Array.isArray(urls) || urls.length === 0) throw new TokenFileError('import: "urls" must be a non-empty array of E-Rezept-Tokens');
  if (urls.length > MAX_TOKENS_PER_FILE) throw new TokenFileError(`import: at most ${MAX_TOKENS_PER_FILE} E-Rezept-Tokens per file, got ${urls.length}`);
  const tokens = urls.map((u, i) => {
    try {
      return parseToken(u);
    } catch (e) {
      throw new TokenFileError(`import: entry ${i + 1}: ${(e as Error).message}`);
    }
  });
  if (new Set(tokens.map((t) => t.prescriptionId)).size !== tokens.length) throw new TokenFileError('import: a prescription appears more than once');
  return tokens;
}
