/**
 * E-Rezept-Tokens as DataMatrix codes: the PVS side prints them (PNG, PDF sheet;
 * A_18516, A_18543), the AVS side scans them back (A_18548, A_22078).
 *
 * The sheet follows the layout idea of the patient printout (Patientenausdruck,
 * DIN A5 landscape): one code per prescription with its PrescriptionID in plain
 * text, and for two or three prescriptions a collective code (Sammelcode) that
 * carries all tokens. The form itself is the KBV's business, not gematik's
 * (gemSysL_eRp §3.4.3, A_18543 note); docs/datamatrix.md lists our choices.
 */
import { buildDataMatrixPayload, parseDataMatrixPayload, type ERezeptToken } from '../erezept-token';
import { DataMatrixError } from './errors';
import { decodeDataMatrixPng, renderDataMatrixPng, type PngRenderOptions } from './png';
import { MM_TO_PT, writeSinglePagePdf, type PdfBilevelImage, type PdfText } from './pdf-writer';
import { encodeDataMatrix, isDarkModule, type DataMatrixSymbol } from './symbol';

/** Printed module size: 0.6 mm is 7 dots at 300 dpi, the resolution the KBV asks printers for. */
export const DEFAULT_PRINT_MODULE_SIZE_MM = 0.6;
export const SHEET_TITLE = 'Ausdruck zur Einlösung Ihres E-Rezeptes';

const PAGE_WIDTH_MM = 210;
const PAGE_HEIGHT_MM = 148;
const MARGIN_MM = 15;

export interface ERezeptDataMatrix {
  /** The exact text in the code: `{"urls":[…]}`. */
  payload: string;
  symbol: DataMatrixSymbol;
}

/** Payload and ECC 200 symbol for 1 to 3 tokens (ERezeptTokenError for invalid tokens). */
export function erezeptDataMatrix(tokens: readonly ERezeptToken[]): ERezeptDataMatrix {
  const payload = buildDataMatrixPayload(tokens);
  return { payload, symbol: encodeDataMatrix(payload) };
}

/** PNG of the DataMatrix code for 1 to 3 tokens. */
export function renderERezeptPng(tokens: readonly ERezeptToken[], options: PngRenderOptions = {}): Buffer {
  return renderDataMatrixPng(erezeptDataMatrix(tokens).symbol, options);
}

/**
 * Scans a PNG: the tokens in its DataMatrix code. Throws DataMatrixError when no
 * code can be read and ERezeptTokenError (NOT_EREZEPT_PAYLOAD, INVALID_TOKEN, …)
 * when the code holds something else than an E-Rezept payload.
 */
export function scanERezeptPng(png: Buffer): ERezeptToken[] {
  return parseDataMatrixPayload(decodeDataMatrixPng(png));
}

export interface SheetOptions {
  /** Printed size of one module in millimetres, 0.25..2. */
  moduleSizeMm?: number;
}

function placeSymbol(symbol: DataMatrixSymbol, xMm: number, topMm: number, moduleMm: number): PdfBilevelImage {
  const sideMm = symbol.size * moduleMm;
  return {
    rows: symbol.size,
    cols: symbol.size,
    dark: (row, col) => isDarkModule(symbol, row, col),
    x: xMm * MM_TO_PT,
    y: (PAGE_HEIGHT_MM - topMm - sideMm) * MM_TO_PT,
    width: sideMm * MM_TO_PT,
    height: sideMm * MM_TO_PT,
  };
}

function textAt(xMm: number, baselineFromTopMm: number, sizePt: number, text: string, bold = false): PdfText {
  return { x: xMm * MM_TO_PT, y: (PAGE_HEIGHT_MM - baselineFromTopMm) * MM_TO_PT, sizePt, text, bold };
}

/**
 * A printable PDF sheet (DIN A5 landscape) for 1 to 3 tokens: per prescription
 * its own code and PrescriptionID, plus the collective code when there are
 * several.
 */
export function renderERezeptPdf(tokens: readonly ERezeptToken[], options: SheetOptions = {}): Buffer {
  const moduleMm = options.moduleSizeMm ?? DEFAULT_PRINT_MODULE_SIZE_MM;
  if (typeof moduleMm !== 'number' || !(moduleMm >= 0.25 && moduleMm <= 2)) {
    throw new DataMatrixError('INVALID_OPTIONS', `moduleSizeMm must be a number in 0.25..2, got ${String(options.moduleSizeMm)}`);
  }
  const collective = erezeptDataMatrix(tokens); // validates all tokens first
  const singles = tokens.map((t) => erezeptDataMatrix([t]).symbol);

  const quietMm = 2 * moduleMm;
  const rowPitchMm = Math.max(...singles.map((s) => s.size * moduleMm)) + Math.max(6, 2 * quietMm);
  const firstRowTopMm = MARGIN_MM + 14;
  const collectiveSideMm = collective.symbol.size * moduleMm;
  const bottomMm = firstRowTopMm + rowPitchMm * singles.length;
  const widestRowMm = MARGIN_MM + Math.max(...singles.map((s) => s.size * moduleMm)) + 6 + 70;
  const fitsVertically = bottomMm <= PAGE_HEIGHT_MM - MARGIN_MM + 6;
  const fitsHorizontally = tokens.length === 1 || widestRowMm + quietMm <= PAGE_WIDTH_MM - MARGIN_MM - collectiveSideMm;
  if (!fitsVertically || !fitsHorizontally) {
    throw new DataMatrixError('INVALID_OPTIONS', `codes with ${moduleMm} mm modules do not fit on a DIN A5 sheet`);
  }

  const images: PdfBilevelImage[] = [];
  const texts: PdfText[] = [textAt(MARGIN_MM, MARGIN_MM + 5, 14, SHEET_TITLE, true)];
  singles.forEach((symbol, i) => {
    const topMm = firstRowTopMm + i * rowPitchMm;
    images.push(placeSymbol(symbol, MARGIN_MM, topMm, moduleMm));
    const textX = MARGIN_MM + symbol.size * moduleMm + 6;
    texts.push(textAt(textX, topMm + 6, 11, `Verordnung ${i + 1}`, true));
    texts.push(textAt(textX, topMm + 12, 11, `Rezept-ID: ${tokens[i].prescriptionId}`));
  });
  if (tokens.length > 1) {
    const x = PAGE_WIDTH_MM - MARGIN_MM - collectiveSideMm;
    images.push(placeSymbol(collective.symbol, x, firstRowTopMm, moduleMm));
    texts.push(textAt(x, firstRowTopMm + collectiveSideMm + 6, 9, `Sammelcode (${tokens.length} Verordnungen)`, true));
  }
  return writeSinglePagePdf({
    widthPt: PAGE_WIDTH_MM * MM_TO_PT,
    heightPt: PAGE_HEIGHT_MM * MM_TO_PT,
    texts,
    images,
    title: `E-Rezept ${tokens.map((t) => t.prescriptionId).join(', ')}`,
  });
}
