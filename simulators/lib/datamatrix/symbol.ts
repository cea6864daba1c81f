/**
 * ECC 200 DataMatrix symbols (ISO/IEC 16022) as a module matrix.
 *
 * The encodation (data codewords, Reed-Solomon, placement) comes from bwip-js
 * (a port of BWIPP); this module only turns its raw output into a checked matrix
 * that the PNG and PDF renderers share. Square symbols only, as the E-Rezept
 * codes in production are.
 */
import * as bwipjs from 'bwip-js';
import { DataMatrixError } from './errors';

/** Longest text accepted; the largest square ECC 200 symbol (144x144) holds at most 2335 ASCII characters. */
export const MAX_DATAMATRIX_TEXT_LENGTH = 2335;

export interface DataMatrixSymbol {
  /** Number of module rows = columns (square symbols, including the finder and timing patterns). */
  readonly size: number;
  /** Row-major, top row first; 1 = dark module, 0 = light module. */
  readonly modules: Uint8Array;
}

export function isDarkModule(symbol: DataMatrixSymbol, row: number, col: number): boolean {
  return symbol.modules[row * symbol.size + col] === 1;
}

/** Encodes printable ASCII text (0x20..0x7E) as a square ECC 200 symbol. */
export function encodeDataMatrix(text: string): DataMatrixSymbol {
  if (typeof text !== 'string' || text.length === 0) {
    throw new DataMatrixError('INVALID_TEXT', 'DataMatrix text must be a non-empty string');
  }
  if (!/^[\x20-\x7e]+$/.test(text)) {
    throw new DataMatrixError('INVALID_TEXT', 'DataMatrix text must be printable ASCII (E-Rezept payloads are)');
  }
  if (text.length > MAX_DATAMATRIX_TEXT_LENGTH) {
    throw new DataMatrixError('TEXT_TOO_LONG', `DataMatrix text of ${text.length} characters exceeds ${MAX_DATAMATRIX_TEXT_LENGTH}`);
  }
  let raw: unknown[];
  try {
    raw = bwipjs.raw({ bcid: 'datamatrix', text }) as unknown[];
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/TooLong/i.test(message)) throw new DataMatrixError('TEXT_TOO_LONG', `text does not fit into one DataMatrix symbol: ${message}`);
    throw new DataMatrixError('INVALID_TEXT', `DataMatrix encoder refused the text: ${message}`);
  }
  const first = raw[0] as { pixs?: number[]; pixx?: number; pixy?: number } | undefined;
  if (!first || !Array.isArray(first.pixs) || first.pixx !== first.pixy || first.pixs.length !== (first.pixx ?? 0) * (first.pixy ?? 0)) {
    throw new DataMatrixError('INVALID_TEXT', 'DataMatrix encoder returned no square module matrix');
  }
  return { size: first.pixx as number, modules: Uint8Array.from(first.pixs, (v) => (v ? 1 : 0)) };
}
