/**
 * DataMatrix symbols to PNG and PNG images back to the text of the code they show.
 *
 * Rendering: whole pixels per module, black on white, 8-bit greyscale, with a
 * light quiet zone around the symbol (ISO/IEC 16022 asks for at least one module;
 * we default to two).
 *
 * Decoding: pngjs reads any PNG (1..16 bit, grey, palette, colour, alpha); the
 * pixels become luminance (alpha composed over white) and ZXing's DataMatrix
 * reader looks for the code, trying a local and a global binarizer, then the
 * image with a white margin added (codes printed without a quiet zone, like the
 * ones in gematik's dumps), a double-size copy (modules of only a few pixels),
 * a half-size copy (fine-grained noise averages out) and a median-filtered copy
 * (salt-and-pepper specks removed).
 */
import {
  BinaryBitmap,
  ChecksumException,
  DataMatrixReader,
  DecodeHintType,
  FormatException,
  GlobalHistogramBinarizer,
  HybridBinarizer,
  RGBLuminanceSource,
  type Binarizer,
  type LuminanceSource,
} from '@zxing/library';
import { PNG } from 'pngjs';
import { DataMatrixError } from './errors';
import { isDarkModule, type DataMatrixSymbol } from './symbol';

/** Pixels per module and quiet zone (in modules) of rendered PNGs unless the caller says otherwise. */
export const DEFAULT_PNG_MODULE_SIZE_PX = 10;
export const DEFAULT_QUIET_ZONE_MODULES = 2;
/** Larger images are refused before decoding (memory and time stay bounded). */
export const MAX_DECODE_PIXELS = 16_000_000;
export const MAX_DECODE_PNG_BYTES = 32 * 1024 * 1024;

export interface PngRenderOptions {
  /** Whole pixels per module, 1..100. */
  moduleSizePx?: number;
  /** Light modules around the symbol, 0..20 (ISO/IEC 16022 wants at least 1). */
  quietZoneModules?: number;
}

function integerOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new DataMatrixError('INVALID_OPTIONS', `${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return v;
}

/** Renders a symbol as a PNG (8-bit greyscale, black modules on white). */
export function renderDataMatrixPng(symbol: DataMatrixSymbol, options: PngRenderOptions = {}): Buffer {
  const module = integerOption('moduleSizePx', options.moduleSizePx, DEFAULT_PNG_MODULE_SIZE_PX, 1, 100);
  const quiet = integerOption('quietZoneModules', options.quietZoneModules, DEFAULT_QUIET_ZONE_MODULES, 0, 20);
  const side = (symbol.size + 2 * quiet) * module;
  const png = new PNG({ width: side, height: side, colorType: 0, bitDepth: 8 });
  png.data.fill(255);
  for (let row = 0; row < symbol.size; row++) {
    for (let col = 0; col < symbol.size; col++) {
      if (!isDarkModule(symbol, row, col)) continue;
      const y0 = (row + quiet) * module;
      const x0 = (col + quiet) * module;
      for (let y = y0; y < y0 + module; y++) {
        for (let x = x0; x < x0 + module; x++) {
          const i = (y * side + x) * 4;
          png.data[i] = 0;
          png.data[i + 1] = 0;
          png.data[i + 2] = 0;
        }
      }
    }
  }
  return PNG.sync.write(png, { colorType: 0, bitDepth: 8, inputColorType: 6, inputHasAlpha: true });
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from the IHDR chunk, checked before anything is inflated. */
function pngDimensions(png: Buffer): { width: number; height: number } {
  if (png.length < 24 || !png.subarray(0, 8).equals(PNG_SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') {
    throw new DataMatrixError('NOT_A_PNG', 'image is not a PNG (signature or IHDR missing)');
  }
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** A greyscale image: one luminance byte per pixel, row-major. */
interface GreyImage {
  width: number;
  height: number;
  luminance: Uint8ClampedArray;
}

function readGreyImage(png: Buffer): GreyImage {
  if (!Buffer.isBuffer(png)) throw new DataMatrixError('NOT_A_PNG', 'image must be a Buffer holding a PNG');
  if (png.length > MAX_DECODE_PNG_BYTES) {
    throw new DataMatrixError('IMAGE_TOO_LARGE', `PNG of ${png.length} bytes exceeds ${MAX_DECODE_PNG_BYTES}`);
  }
  const { width, height } = pngDimensions(png);
  if (width === 0 || height === 0 || width * height > MAX_DECODE_PIXELS) {
    throw new DataMatrixError('IMAGE_TOO_LARGE', `PNG of ${width}x${height} pixels is empty or exceeds ${MAX_DECODE_PIXELS} pixels`);
  }
  let decoded: PNG;
  try {
    decoded = PNG.sync.read(png);
  } catch (e) {
    throw new DataMatrixError('NOT_A_PNG', `PNG could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const rgba = decoded.data;
  const luminance = new Uint8ClampedArray(width * height);
  for (let p = 0, i = 0; p < luminance.length; p++, i += 4) {
    const y = (rgba[i] * 299 + rgba[i + 1] * 587 + rgba[i + 2] * 114) / 1000;
    const a = rgba[i + 3];
    luminance[p] = (y * a + 255 * (255 - a)) / 255;
  }
  return { width, height, luminance };
}

function withWhiteMargin(img: GreyImage, margin: number): GreyImage {
  const width = img.width + 2 * margin;
  const height = img.height + 2 * margin;
  const luminance = new Uint8ClampedArray(width * height).fill(255);
  for (let y = 0; y < img.height; y++) {
    luminance.set(img.luminance.subarray(y * img.width, (y + 1) * img.width), (y + margin) * width + margin);
  }
  return { width, height, luminance };
}

function halfSize(img: GreyImage): GreyImage {
  const width = img.width >> 1;
  const height = img.height >> 1;
  const luminance = new Uint8ClampedArray(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 2 * y * img.width + 2 * x;
      luminance[y * width + x] = (img.luminance[i] + img.luminance[i + 1] + img.luminance[i + img.width] + img.luminance[i + img.width + 1]) / 4;
    }
  }
  return { width, height, luminance };
}

/** Bilinear 2x enlargement: small modules (a few pixels) get more samples for ZXing's grid sampling. */
function doubleSize(img: GreyImage): GreyImage {
  const width = img.width * 2;
  const height = img.height * 2;
  const luminance = new Uint8ClampedArray(width * height);
  const at = (x: number, y: number) => img.luminance[Math.min(img.height - 1, y) * img.width + Math.min(img.width - 1, x)];
  for (let y = 0; y < height; y++) {
    const sy = Math.max(0, (y - 0.5) / 2);
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = Math.max(0, (x - 0.5) / 2);
      const x0 = Math.floor(sx);
      const fx = sx - x0;
      luminance[y * width + x] =
        at(x0, y0) * (1 - fx) * (1 - fy) + at(x0 + 1, y0) * fx * (1 - fy) + at(x0, y0 + 1) * (1 - fx) * fy + at(x0 + 1, y0 + 1) * fx * fy;
    }
  }
  return { width, height, luminance };
}

/** 3x3 median: removes salt-and-pepper specks while keeping module edges. */
function median3(img: GreyImage): GreyImage {
  const { width, height } = img;
  const luminance = new Uint8ClampedArray(width * height);
  const win = new Array<number>(9);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let k = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = Math.min(height - 1, Math.max(0, y + dy));
        for (let dx = -1; dx <= 1; dx++) win[k++] = img.luminance[yy * width + Math.min(width - 1, Math.max(0, x + dx))];
      }
      win.sort((a, b) => a - b);
      luminance[y * width + x] = win[4];
    }
  }
  return { width, height, luminance };
}

type Outcome = { text: string } | { error: 'not-found' | 'unreadable' };

function tryDecode(img: GreyImage, makeBinarizer: (source: LuminanceSource) => Binarizer): Outcome {
  const source = new RGBLuminanceSource(img.luminance, img.width, img.height);
  const hints = new Map<DecodeHintType, unknown>([[DecodeHintType.TRY_HARDER, true]]);
  try {
    return { text: new DataMatrixReader().decode(new BinaryBitmap(makeBinarizer(source)), hints).getText() };
  } catch (e) {
    if (e instanceof ChecksumException || e instanceof FormatException) return { error: 'unreadable' };
    return { error: 'not-found' };
  }
}

/**
 * Text of the DataMatrix code in a PNG. Throws DataMatrixError: NOT_A_PNG,
 * IMAGE_TOO_LARGE, NO_CODE_FOUND (no symbol located) or UNREADABLE_CODE (a
 * symbol was located but its data could not be corrected).
 */
export function decodeDataMatrixPng(png: Buffer): string {
  const image = readGreyImage(png);
  const margin = Math.max(8, Math.round(Math.min(image.width, image.height) / 10));
  const small = Math.max(image.width, image.height) <= 1200;
  let denoised: GreyImage | undefined;
  const median = () => (denoised ??= withWhiteMargin(median3(image), margin));
  // Cheapest first; each copy is made only when the ones before it failed.
  const candidates: Array<() => GreyImage | undefined> = [
    () => image,
    () => withWhiteMargin(image, margin),
    () => (small ? withWhiteMargin(doubleSize(image), 2 * margin) : undefined),
    () => (Math.min(image.width, image.height) >= 200 ? withWhiteMargin(halfSize(image), margin >> 1) : undefined),
    () => (image.width * image.height <= 4_000_000 ? median() : undefined),
    () => (small ? doubleSize(median()) : undefined),
  ];
  const binarizers = [(s: LuminanceSource) => new HybridBinarizer(s), (s: LuminanceSource) => new GlobalHistogramBinarizer(s)];
  let sawSymbol = false;
  for (const makeCandidate of candidates) {
    const candidate = makeCandidate();
    if (!candidate) continue;
    for (const binarizer of binarizers) {
      const outcome = tryDecode(candidate, binarizer);
      if ('text' in outcome) return outcome.text;
      if (outcome.error === 'unreadable') sawSymbol = true;
    }
  }
  if (sawSymbol) {
    throw new DataMatrixError('UNREADABLE_CODE', 'a DataMatrix symbol was found but its data could not be read or corrected');
  }
  throw new DataMatrixError('NO_CODE_FOUND', `no DataMatrix code found in the ${image.width}x${image.height} image`);
}
