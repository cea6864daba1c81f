/** Test helpers: real DataMatrix images from the dumps, image distortions, dmtxread, a PDF structure reader. */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { PNG } from 'pngjs';
import { sharedPath } from '../../../simulators/lib/shared-data';
import { prng } from '../../support/prng';

export interface RealDumpCode {
  file: string;
  prescriptionId: string;
}

/** Every `*_dmc_<PrescriptionID>.png` in the shared ru-dumps. */
export function realDumpCodes(): RealDumpCode[] {
  const root = sharedPath('reference', 'ru-dumps');
  const found: RealDumpCode[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else {
        const m = /_dmc_(\d{3}(?:\.\d{3}){4}\.\d{2})\.png$/.exec(entry.name);
        if (m) found.push({ file: p, prescriptionId: m[1] });
      }
    }
  };
  walk(root);
  return found.sort((a, b) => a.file.localeCompare(b.file));
}

let tmpDir: string | undefined;
function tempFile(name: string, data: Buffer): string {
  tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'datamatrix-test-'));
  const p = path.join(tmpDir, name);
  fs.writeFileSync(p, data);
  return p;
}

export function removeTempFiles(): void {
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = undefined;
}

/** Text read by Debian's libdmtx reader (package dmtx-utils); fails the test if dmtxread is missing or finds nothing. */
export function dmtxread(png: Buffer, name = 'code.png'): string {
  const file = tempFile(name, png);
  try {
    // dmtxread prints the message without a newline unless -n is given.
    return execFileSync('dmtxread', ['--stop-after=1', file], { encoding: 'latin1', timeout: 60_000 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number };
    if (err.code === 'ENOENT') assert.fail('dmtxread not found: install the Debian package dmtx-utils (npm test bootstrap does)');
    assert.fail(`dmtxread could not read ${name} (exit ${err.status})`);
  }
}

/** An RGBA image for distortion tests. */
export interface Rgba {
  width: number;
  height: number;
  data: Buffer;
}

export function readPng(png: Buffer): Rgba {
  const p = PNG.sync.read(png);
  return { width: p.width, height: p.height, data: p.data };
}

export function writePng(img: Rgba, colorType: 0 | 2 | 6 = 6): Buffer {
  const p = new PNG({ width: img.width, height: img.height });
  img.data.copy(p.data);
  return PNG.sync.write(p, { colorType });
}

function lum(img: Rgba, x: number, y: number): number {
  const i = (y * img.width + x) * 4;
  return (img.data[i] + img.data[i + 1] + img.data[i + 2]) / 3;
}

/** Bilinear resampling by a (non-integer) factor: grey edges as a scanner or camera produces. */
export function resize(img: Rgba, factor: number): Rgba {
  const width = Math.max(1, Math.round(img.width * factor));
  const height = Math.max(1, Math.round(img.height * factor));
  const data = Buffer.alloc(width * height * 4, 255);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = Math.min(img.width - 1.001, Math.max(0, (x + 0.5) / factor - 0.5));
      const sy = Math.min(img.height - 1.001, Math.max(0, (y + 0.5) / factor - 0.5));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const v =
        lum(img, x0, y0) * (1 - fx) * (1 - fy) + lum(img, x0 + 1, y0) * fx * (1 - fy) + lum(img, x0, y0 + 1) * (1 - fx) * fy + lum(img, x0 + 1, y0 + 1) * fx * fy;
      const i = (y * width + x) * 4;
      data[i] = data[i + 1] = data[i + 2] = Math.round(v);
    }
  }
  return { width, height, data };
}

/** Dark modules as dark blue, light ones as pale yellow (a colour photo of a print). */
export function colourise(img: Rgba): Rgba {
  const data = Buffer.from(img.data);
  for (let i = 0; i < data.length; i += 4) {
    const t = data[i] / 255;
    data[i] = Math.round(20 + t * (250 - 20));
    data[i + 1] = Math.round(30 + t * (240 - 30));
    data[i + 2] = Math.round(110 + t * (170 - 110));
  }
  return { ...img, data };
}

export { prng };

/** Gaussian-ish grey noise of amplitude `amp` plus a fraction of salt-and-pepper pixels. */
export function addNoise(img: Rgba, amp: number, saltPepper: number, seed = 7): Rgba {
  const rnd = prng(seed);
  const data = Buffer.from(img.data);
  for (let i = 0; i < data.length; i += 4) {
    let v: number;
    if (rnd() < saltPepper) v = rnd() < 0.5 ? 0 : 255;
    else v = data[i] + (rnd() + rnd() + rnd() - 1.5) * amp;
    data[i] = data[i + 1] = data[i + 2] = Math.max(0, Math.min(255, Math.round(v)));
  }
  return { ...img, data };
}

/** 90° clockwise rotation. */
export function rotate90(img: Rgba): Rgba {
  const data = Buffer.alloc(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      img.data.copy(data, (x * img.height + (img.height - 1 - y)) * 4, (y * img.width + x) * 4, (y * img.width + x) * 4 + 4);
    }
  }
  return { width: img.height, height: img.width, data };
}

// ---- PDF structure reader (independent of the writer: follows xref offsets) ----

export interface PdfImageXObject {
  name: string;
  width: number;
  height: number;
  /** Inflated samples: 1 bit per pixel, rows padded to bytes, 0 = black. */
  samples: Buffer;
}

export interface ParsedPdf {
  version: string;
  objectCount: number;
  mediaBox: number[];
  images: PdfImageXObject[];
  /** Strings shown with Tj, decoded from WinAnsi. */
  texts: string[];
  /** Number of `Do` operators in the page content. */
  drawnImages: number;
  title: string;
}

function pdfLiteral(s: string): string {
  return s.replace(/\\([()\\]|[0-7]{3})/g, (_, g: string) => (g.length === 3 ? String.fromCharCode(parseInt(g, 8)) : g));
}

/** Reads the PDF through its cross-reference table; any structural defect fails the assertion. */
export function parsePdf(pdf: Buffer): ParsedPdf {
  const s = pdf.toString('latin1');
  const header = /^%PDF-(1\.\d)\n/.exec(s);
  assert.ok(header, 'PDF header %PDF-1.x missing');
  const tail = /startxref\n(\d+)\n%%EOF\n?$/.exec(s);
  assert.ok(tail, 'startxref / %%EOF missing at the end');
  const xrefAt = Number(tail[1]);
  assert.equal(s.slice(xrefAt, xrefAt + 5), 'xref\n', 'startxref does not point at the xref table');
  const sub = /^xref\n0 (\d+)\n/.exec(s.slice(xrefAt));
  assert.ok(sub, 'xref subsection header missing');
  const count = Number(sub[1]);
  const entriesAt = xrefAt + sub[0].length;
  const offsets = new Map<number, number>();
  for (let k = 0; k < count; k++) {
    const entry = s.slice(entriesAt + 20 * k, entriesAt + 20 * (k + 1));
    const m = /^(\d{10}) (\d{5}) ([nf])( \n| \r|\r\n)$/.exec(entry);
    assert.ok(m, `xref entry ${k} malformed: ${JSON.stringify(entry)}`);
    if (m[3] === 'n') offsets.set(k, Number(m[1]));
  }
  const trailer = /trailer\n<<(.*?)>>\nstartxref/s.exec(s.slice(entriesAt + 20 * count));
  assert.ok(trailer, 'trailer missing');
  assert.equal(Number(/\/Size (\d+)/.exec(trailer[1])?.[1]), count, 'trailer /Size differs from the xref table');

  const objectAt = (n: number): { dict: string; stream?: Buffer } => {
    const off = offsets.get(n);
    assert.ok(off !== undefined, `object ${n} not in xref`);
    const head = `${n} 0 obj\n`;
    assert.equal(s.slice(off, off + head.length), head, `xref offset of object ${n} does not point at "${n} 0 obj"`);
    const bodyAt = off + head.length;
    const streamKw = s.indexOf('\nstream\n', bodyAt);
    const endObj = s.indexOf('\nendobj', bodyAt);
    if (streamKw !== -1 && streamKw < endObj) {
      const dict = s.slice(bodyAt, streamKw);
      const length = Number(/\/Length (\d+)/.exec(dict)?.[1]);
      const dataAt = streamKw + '\nstream\n'.length;
      assert.equal(s.slice(dataAt + length, dataAt + length + 10), '\nendstream', `stream /Length of object ${n} is wrong`);
      return { dict, stream: pdf.subarray(dataAt, dataAt + length) };
    }
    return { dict: s.slice(bodyAt, endObj) };
  };
  const ref = (dict: string, key: string): number => {
    const m = new RegExp(`/${key} (\\d+) 0 R`).exec(dict);
    assert.ok(m, `/${key} reference missing in ${dict.slice(0, 80)}`);
    return Number(m[1]);
  };

  const catalog = objectAt(ref(trailer[1], 'Root')).dict;
  assert.match(catalog, /\/Type \/Catalog/);
  const pages = objectAt(ref(catalog, 'Pages')).dict;
  assert.match(pages, /\/Count 1\b/);
  const kid = /\/Kids \[(\d+) 0 R\]/.exec(pages);
  assert.ok(kid, 'page tree has no single kid');
  const page = objectAt(Number(kid[1])).dict;
  assert.match(page, /\/Type \/Page\b/);
  const mediaBox = (/\/MediaBox \[([^\]]+)\]/.exec(page)?.[1] ?? '').trim().split(/\s+/).map(Number);
  const images: PdfImageXObject[] = [];
  for (const m of (/\/XObject << ([^>]*) >>/.exec(page)?.[1] ?? '').matchAll(/\/(\w+) (\d+) 0 R/g)) {
    const obj = objectAt(Number(m[2]));
    assert.match(obj.dict, /\/Subtype \/Image/);
    assert.match(obj.dict, /\/BitsPerComponent 1\b/);
    assert.match(obj.dict, /\/Filter \/FlateDecode/);
    const width = Number(/\/Width (\d+)/.exec(obj.dict)?.[1]);
    const height = Number(/\/Height (\d+)/.exec(obj.dict)?.[1]);
    const samples = zlib.inflateSync(obj.stream as Buffer);
    assert.equal(samples.length, Math.ceil(width / 8) * height, `image ${m[1]} sample size`);
    images.push({ name: m[1], width, height, samples });
  }
  const content = objectAt(ref(page, 'Contents'));
  assert.ok(content.stream, 'page content is not a stream');
  const ops = zlib.inflateSync(content.stream).toString('latin1');
  const texts = [...ops.matchAll(/\(((?:\\.|[^\\)])*)\) Tj/g)].map((m) => pdfLiteral(m[1]));
  const drawnImages = [...ops.matchAll(/\/\w+ Do\b/g)].length;
  const info = objectAt(ref(trailer[1], 'Info')).dict;
  const title = pdfLiteral(/\/Title \(((?:\\.|[^\\)])*)\)/.exec(info)?.[1] ?? '');
  return { version: header[1], objectCount: count - 1, mediaBox, images, texts, drawnImages, title };
}

/** A PDF image XObject back to a PNG (module = `scale` px, 4 white modules around) for decoding. */
export function pdfImageToPng(image: PdfImageXObject, scale = 8): Buffer {
  const margin = 4;
  const width = (image.width + 2 * margin) * scale;
  const height = (image.height + 2 * margin) * scale;
  const data = Buffer.alloc(width * height * 4, 255);
  const stride = Math.ceil(image.width / 8);
  for (let r = 0; r < image.height; r++) {
    for (let c = 0; c < image.width; c++) {
      const white = (image.samples[r * stride + (c >> 3)] >> (7 - (c & 7))) & 1;
      if (white) continue;
      for (let y = (r + margin) * scale; y < (r + margin + 1) * scale; y++) {
        for (let x = (c + margin) * scale; x < (c + margin + 1) * scale; x++) {
          const i = (y * width + x) * 4;
          data[i] = data[i + 1] = data[i + 2] = 0;
        }
      }
    }
  }
  return writePng({ width, height, data }, 0);
}
