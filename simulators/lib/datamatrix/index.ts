/**
 * DataMatrix (ISO/IEC 16022, ECC 200) for the TI harness: encode text to a
 * symbol, render it as PNG or as a printable PDF sheet, decode PNG images.
 * E-Rezept specifics (tokens, payload) live in ../erezept-token.ts.
 */
export { DataMatrixError, type DataMatrixErrorCode } from './errors';
export { encodeDataMatrix, isDarkModule, MAX_DATAMATRIX_TEXT_LENGTH, type DataMatrixSymbol } from './symbol';
export {
  decodeDataMatrixPng,
  renderDataMatrixPng,
  DEFAULT_PNG_MODULE_SIZE_PX,
  DEFAULT_QUIET_ZONE_MODULES,
  MAX_DECODE_PIXELS,
  MAX_DECODE_PNG_BYTES,
  type PngRenderOptions,
} from './png';
export { writeSinglePagePdf, MM_TO_PT, type PdfPage, type PdfText, type PdfBilevelImage } from './pdf-writer';
export {
  erezeptDataMatrix,
  renderERezeptPng,
  renderERezeptPdf,
  scanERezeptPng,
  DEFAULT_PRINT_MODULE_SIZE_MM,
  SHEET_TITLE,
  type ERezeptDataMatrix,
  type SheetOptions,
} from './erezept-print';
