import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import {
  DataMatrixError,
  decodeDataMatrixPng,
  encodeDataMatrix,
  erezeptDataMatrix,
  isDarkModule,
  renderDataMatrixPng,
  renderERezeptPdf,
  renderERezeptPng,
  scanERezeptPng,
  SHEET_TITLE,
  MM_TO_PT,
} from '../../../simulators/lib/datamatrix';
import { buildDataMatrixPayload, buildPrescriptionId, ERezeptTokenError, type ERezeptToken } from '../../../simulators/lib/erezept-token';
import {
  addNoise,
  colourise,
  dmtxread,
  parsePdf,
  pdfImageToPng,
  prng,
  readPng,
  realDumpCodes,
  removeTempFiles,
  resize,
  rotate90,
  writePng,
} from './helpers';

after(removeTempFiles);

const isDmError = (...codes: string[]) => (e: unknown) => e instanceof DataMatrixError && codes.includes(e.code);
const isTokenError = (code: string) => (e: unknown) => e instanceof ERezeptTokenError && e.code === code;

function randomAccessCode(rnd: () => number): string {
  let s = '';
  for (let i = 0; i < 64; i++) s += Math.floor(rnd() * 16).toString(16);
  return s;
}

const rnd = prng(2024);
const TOKENS: ERezeptToken[] = [
  { prescriptionId: buildPrescriptionId(160, 239_761_370), accessCode: randomAccessCode(rnd) },
  { prescriptionId: buildPrescriptionId(200, 2_425_306), accessCode: randomAccessCode(rnd) },
  { prescriptionId: buildPrescriptionId(169, 11_663_668), accessCode: randomAccessCode(rnd) },
];
const SETS = [TOKENS.slice(0, 1), TOKENS.slice(0, 2), TOKENS.slice(0, 3)];

test('real codes: every *_dmc_*.png of the gematik dumps scans to a token of the prescription in its file name', () => {
  const codes = realDumpCodes();
  assert.ok(codes.length >= 80, `expected the ~86 DataMatrix images of the ru-dumps, found ${codes.length}`);
  for (const { file, prescriptionId } of codes) {
    const tokens = scanERezeptPng(fs.readFileSync(file));
    assert.equal(tokens.length, 1, file);
    assert.equal(tokens[0].prescriptionId, prescriptionId, file);
    assert.match(tokens[0].accessCode, /^[0-9a-f]{64}$/, file);
  }
});

test('real codes: our decoder returns the raw text exactly as libdmtx reads it (production escapes = as \\u003d)', () => {
  const { file } = realDumpCodes()[0];
  const png = fs.readFileSync(file);
  const text = decodeDataMatrixPng(png);
  assert.equal(text, dmtxread(png, 'real.png'));
  assert.match(text, /^\{"urls":\["Task\/[\d.]+\/\$accept\?ac\\u003d[0-9a-f]{64}"\]\}$/);
});

for (const [i, tokens] of SETS.entries()) {
  test(`encode ${i + 1} token(s): Debian dmtxread reads the exact payload from our PNG, and so does our decoder`, () => {
    const payload = buildDataMatrixPayload(tokens);
    const png = renderERezeptPng(tokens);
    assert.equal(dmtxread(png, `ours-${i + 1}.png`), payload);
    assert.equal(decodeDataMatrixPng(png), payload);
    assert.deepEqual(scanERezeptPng(png), tokens);
  });
}

test('symbol: square ECC 200 with the L finder and the alternating timing pattern; size grows with the token count', () => {
  const sizes = SETS.map((tokens) => erezeptDataMatrix(tokens).symbol.size);
  assert.deepEqual(sizes, [40, 48, 64]);
  const { symbol } = erezeptDataMatrix(TOKENS);
  const last = symbol.size - 1;
  for (let k = 0; k < symbol.size; k++) {
    assert.equal(isDarkModule(symbol, k, 0), true, `left finder row ${k}`);
    assert.equal(isDarkModule(symbol, last, k), true, `bottom finder col ${k}`);
    assert.equal(isDarkModule(symbol, 0, k), k % 2 === 0, `top timing col ${k}`);
    assert.equal(isDarkModule(symbol, k, last), k % 2 === 1, `right timing row ${k}`);
  }
});

test('PNG rendering: module size and quiet zone give the documented geometry', () => {
  const symbol = encodeDataMatrix('HELLO');
  const img = readPng(renderDataMatrixPng(symbol, { moduleSizePx: 3, quietZoneModules: 1 }));
  assert.equal(img.width, (symbol.size + 2) * 3);
  const px = (x: number, y: number) => img.data[(y * img.width + x) * 4];
  assert.equal(px(1, 1), 255, 'quiet zone is light');
  assert.equal(px(3, 3 + 3 * (symbol.size - 1)), 0, 'bottom-left finder corner is dark');
  assert.equal(px(3 + 3, 3), 255, 'second top timing module is light');
  const dflt = readPng(renderDataMatrixPng(symbol));
  assert.equal(dflt.width, (symbol.size + 4) * 10, 'defaults: 10 px modules, 2-module quiet zone');
  for (const bad of [{ moduleSizePx: 0 }, { moduleSizePx: 2.5 }, { moduleSizePx: 101 }, { quietZoneModules: -1 }, { quietZoneModules: 21 }]) {
    assert.throws(() => renderDataMatrixPng(symbol, bad), isDmError('INVALID_OPTIONS'), JSON.stringify(bad));
  }
});

test('decoding copes with grey resampling, colour, noise, rotation and a missing quiet zone', () => {
  const tokens = SETS[2];
  const base = readPng(renderERezeptPng(tokens, { moduleSizePx: 8, quietZoneModules: 2 }));
  const variants: Array<[string, Buffer]> = [
    ['downscaled x0.43 (grey edges)', writePng(resize(base, 0.43), 0)],
    ['upscaled x1.7', writePng(resize(base, 1.7), 0)],
    ['colour print photo', writePng(colourise(resize(base, 0.9)), 2)],
    ['grey noise + 2% salt and pepper', writePng(addNoise(base, 60, 0.02), 0)],
    ['downscaled x0.55 + noise + 1% salt and pepper', writePng(addNoise(resize(base, 0.55), 50, 0.01, 1), 0)],
    ['downscaled x0.3 (2.4 px per module)', writePng(resize(base, 0.3), 0)],
    ['rotated 90°', writePng(rotate90(base), 0)],
    ['no quiet zone', renderERezeptPng(tokens, { moduleSizePx: 6, quietZoneModules: 0 })],
  ];
  for (const [name, png] of variants) {
    let scanned: ERezeptToken[];
    try {
      scanned = scanERezeptPng(png);
    } catch (e) {
      assert.fail(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    assert.deepEqual(scanned, tokens, name);
  }
});

test('errors: images without a code and broken files give typed errors, no crash', () => {
  const blank = writePng({ width: 200, height: 200, data: Buffer.alloc(200 * 200 * 4, 255) }, 0);
  assert.throws(() => decodeDataMatrixPng(blank), isDmError('NO_CODE_FOUND'));
  const noise = writePng(addNoise({ width: 160, height: 160, data: Buffer.alloc(160 * 160 * 4, 128) }, 0, 1, 3), 0);
  assert.throws(() => scanERezeptPng(noise), isDmError('NO_CODE_FOUND', 'UNREADABLE_CODE'));
  assert.throws(() => decodeDataMatrixPng(Buffer.from('GIF89a not a png')), isDmError('NOT_A_PNG'));
  assert.throws(() => decodeDataMatrixPng(Buffer.alloc(0)), isDmError('NOT_A_PNG'));
  const good = renderERezeptPng(SETS[0]);
  assert.throws(() => decodeDataMatrixPng(good.subarray(0, good.length >> 1)), isDmError('NOT_A_PNG'));
  // A header that claims 100000 x 100000 pixels is refused before anything is inflated.
  const huge = Buffer.from(good);
  huge.writeUInt32BE(100_000, 16);
  huge.writeUInt32BE(100_000, 20);
  assert.throws(() => decodeDataMatrixPng(huge), isDmError('IMAGE_TOO_LARGE'));
  assert.throws(() => decodeDataMatrixPng('x' as unknown as Buffer), isDmError('NOT_A_PNG'));
});

test('errors: a damaged code beyond its error correction is refused, not misread', () => {
  const { symbol } = erezeptDataMatrix(SETS[0]);
  const modules = Uint8Array.from(symbol.modules);
  const r = prng(99);
  // Invert 35% of the data-region modules (finder and timing patterns stay, so the symbol is still found).
  for (let row = 1; row < symbol.size - 1; row++) {
    for (let col = 1; col < symbol.size - 1; col++) if (r() < 0.35) modules[row * symbol.size + col] ^= 1;
  }
  const png = renderDataMatrixPng({ size: symbol.size, modules });
  assert.throws(() => scanERezeptPng(png), isDmError('NO_CODE_FOUND', 'UNREADABLE_CODE'));
});

test('errors: a readable code that is not an E-Rezept payload gives ERezeptTokenError', () => {
  const text = (t: string) => renderDataMatrixPng(encodeDataMatrix(t));
  assert.throws(() => scanERezeptPng(text('https://example.org/not-a-prescription')), isTokenError('NOT_EREZEPT_PAYLOAD'));
  assert.throws(() => scanERezeptPng(text('{"urls":[]}')), isTokenError('NO_TOKENS'));
  const ac = TOKENS[0].accessCode;
  assert.throws(() => scanERezeptPng(text(`{"urls":["Task/4711/$accept?ac=${ac}"]}`)), isTokenError('INVALID_PRESCRIPTION_ID'));
  assert.throws(() => scanERezeptPng(text(`{"urls":["Task/160.000.239.761.370.47/$accept?ac=${ac.slice(2)}"]}`)), isTokenError('INVALID_ACCESS_CODE'));
  const four = JSON.stringify({ urls: [...TOKENS, { ...TOKENS[0], prescriptionId: buildPrescriptionId(160, 1) }].map((t) => `Task/${t.prescriptionId}/$accept?ac=${t.accessCode}`) });
  assert.throws(() => scanERezeptPng(text(four)), isTokenError('TOO_MANY_TOKENS'));
});

test('encoder: invalid input is refused with typed errors', () => {
  assert.throws(() => encodeDataMatrix(''), isDmError('INVALID_TEXT'));
  assert.throws(() => encodeDataMatrix('Grüße'), isDmError('INVALID_TEXT'));
  assert.throws(() => encodeDataMatrix('line\nbreak'), isDmError('INVALID_TEXT'));
  assert.throws(() => encodeDataMatrix('x'.repeat(2400)), isDmError('TEXT_TOO_LONG'));
  assert.throws(() => erezeptDataMatrix([]), isTokenError('NO_TOKENS'));
  assert.throws(() => renderERezeptPng([{ prescriptionId: '160.000.239.761.370.48', accessCode: TOKENS[0].accessCode }]), isTokenError('INVALID_PRESCRIPTION_ID'));
  assert.throws(() => renderERezeptPng([{ prescriptionId: TOKENS[0].prescriptionId, accessCode: 'ABC' }]), isTokenError('INVALID_ACCESS_CODE'));
});

for (const [i, tokens] of SETS.entries()) {
  test(`PDF sheet with ${i + 1} token(s): valid structure, every code image reads with dmtxread, IDs in plain text`, () => {
    const pdf = renderERezeptPdf(tokens);
    const parsed = parsePdf(pdf);
    assert.equal(parsed.version, '1.4');
    assert.deepEqual(parsed.mediaBox.map(Math.round), [0, 0, Math.round(210 * MM_TO_PT), Math.round(148 * MM_TO_PT)]);
    const expected = tokens.map((t) => buildDataMatrixPayload([t]));
    if (tokens.length > 1) expected.push(buildDataMatrixPayload(tokens));
    assert.equal(parsed.images.length, expected.length);
    assert.equal(parsed.drawnImages, expected.length);
    const read = parsed.images.map((img, k) => dmtxread(pdfImageToPng(img), `pdf-${i}-${k}.png`));
    assert.deepEqual(read, expected);
    assert.ok(parsed.texts.includes(SHEET_TITLE), 'title (with umlaut) printed');
    for (const t of tokens) assert.ok(parsed.texts.includes(`Rezept-ID: ${t.prescriptionId}`), t.prescriptionId);
    for (const t of tokens) assert.equal(parsed.texts.some((s) => s.includes(t.accessCode)), false, 'no AccessCode in plain text');
    assert.match(parsed.title, new RegExp(tokens[0].prescriptionId.replace(/\./g, '\\.')));
  });
}

test('PDF sheet: module size option is applied and out-of-range values are refused', () => {
  const pdf = renderERezeptPdf(SETS[0], { moduleSizeMm: 0.5 });
  const ops = zlib.inflateSync(extractContentStream(pdf)).toString('latin1');
  const cm = /q ([\d.]+) 0 0 ([\d.]+) [\d.]+ [\d.]+ cm \/Im1 Do Q/.exec(ops);
  assert.ok(cm, 'image placement missing');
  assert.ok(Math.abs(Number(cm[1]) - 40 * 0.5 * MM_TO_PT) < 0.01, `40 modules of 0.5 mm, got ${cm[1]} pt`);
  for (const bad of [0.1, 2.5, Number.NaN]) {
    assert.throws(() => renderERezeptPdf(SETS[0], { moduleSizeMm: bad }), isDmError('INVALID_OPTIONS'), String(bad));
  }
  assert.throws(() => renderERezeptPdf(SETS[2], { moduleSizeMm: 1.5 }), isDmError('INVALID_OPTIONS'));
  assert.throws(() => renderERezeptPdf([]), isTokenError('NO_TOKENS'));
});

function extractContentStream(pdf: Buffer): Buffer {
  const s = pdf.toString('latin1');
  const contentsRef = Number(/\/Contents (\d+) 0 R/.exec(s)?.[1]);
  const at = s.indexOf(`\n${contentsRef} 0 obj\n`);
  const length = Number(/\/Length (\d+)/.exec(s.slice(at))?.[1]);
  const dataAt = s.indexOf('\nstream\n', at) + '\nstream\n'.length;
  return pdf.subarray(dataAt, dataAt + length);
}

test('bootstrap installs dmtx-utils, the Debian package whose dmtxread these tests use', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DEBIAN_PACKAGES } = require('../../../bin/bootstrap') as { DEBIAN_PACKAGES: string[] };
  assert.ok(DEBIAN_PACKAGES.includes('dmtx-utils'));
});
