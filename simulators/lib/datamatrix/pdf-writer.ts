/**
 * A minimal PDF 1.4 writer for one page of text and 1-bit images.
 *
 * Enough for a printable prescription sheet and nothing more: the standard
 * Helvetica fonts (WinAnsiEncoding, so German umlauts print), black text, and
 * bilevel images as Flate-compressed image XObjects drawn without
 * interpolation (each code module stays a sharp square). Coordinates are PDF
 * points (1/72 inch) from the lower-left corner of the page.
 */
import * as zlib from 'node:zlib';

export const MM_TO_PT = 72 / 25.4;

export interface PdfText {
  x: number;
  y: number;
  sizePt: number;
  text: string;
  bold?: boolean;
}

/** A bilevel image: `dark(row, col)` for `rows` x `cols` pixels, row 0 at the top. */
export interface PdfBilevelImage {
  rows: number;
  cols: number;
  dark: (row: number, col: number) => boolean;
  /** Placement of the image's lower-left corner and its printed size, in points. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PdfPage {
  widthPt: number;
  heightPt: number;
  texts: readonly PdfText[];
  images: readonly PdfBilevelImage[];
  /** Document title for the Info dictionary. */
  title: string;
}

/** Bytes of `text` in WinAnsiEncoding (Latin-1 subset; anything else prints as '?'). */
function winAnsi(text: string): Buffer {
  const bytes: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    bytes.push((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff) ? c : 0x3f);
  }
  return Buffer.from(bytes);
}

/** A PDF literal string `( … )` with the delimiters and non-ASCII bytes escaped. */
function pdfString(text: string): string {
  let out = '(';
  for (const b of winAnsi(text)) {
    if (b === 0x28 || b === 0x29 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b > 0x7e) out += `\\${b.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `${out})`;
}

function num(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`PDF number must be finite, got ${n}`);
  return Number(n.toFixed(3)).toString();
}

/** 1 bit per pixel, rows padded to whole bytes; DeviceGray: 0 = black, 1 = white. */
function packBilevel(image: PdfBilevelImage): Buffer {
  const stride = Math.ceil(image.cols / 8);
  const out = Buffer.alloc(stride * image.rows, 0xff);
  for (let r = 0; r < image.rows; r++) {
    for (let c = 0; c < image.cols; c++) {
      if (image.dark(r, c)) out[r * stride + (c >> 3)] &= ~(0x80 >> (c & 7));
    }
  }
  return out;
}

/** Serialises one page as a complete PDF file. */
export function writeSinglePagePdf(page: PdfPage): Buffer {
  const objects: Buffer[] = [];
  const add = (body: Buffer | string): number => {
    objects.push(typeof body === 'string' ? Buffer.from(body, 'latin1') : body);
    return objects.length;
  };
  const stream = (dict: string, data: Buffer): Buffer =>
    Buffer.concat([Buffer.from(`<< ${dict} /Length ${data.length} >>\nstream\n`, 'latin1'), data, Buffer.from('\nendstream', 'latin1')]);

  // Object numbers are fixed by the order of `add` calls below.
  const catalog = add('<< /Type /Catalog /Pages 2 0 R >>');
  const pages = add('<< /Type /Pages /Kids [3 0 R] /Count 1 >>');
  const pageIndex = objects.length; // placeholder for the page, filled in below
  add('');
  const regular = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const bold = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>');
  const imageRefs = page.images.map((image) =>
    add(
      stream(
        `/Type /XObject /Subtype /Image /Width ${image.cols} /Height ${image.rows} /ColorSpace /DeviceGray /BitsPerComponent 1 /Interpolate false /Filter /FlateDecode`,
        zlib.deflateSync(packBilevel(image)),
      ),
    ),
  );

  const ops: string[] = [];
  page.images.forEach((image, i) => {
    ops.push(`q ${num(image.width)} 0 0 ${num(image.height)} ${num(image.x)} ${num(image.y)} cm /Im${i + 1} Do Q`);
  });
  for (const t of page.texts) {
    ops.push(`BT /${t.bold ? 'F2' : 'F1'} ${num(t.sizePt)} Tf ${num(t.x)} ${num(t.y)} Td ${pdfString(t.text)} Tj ET`);
  }
  const content = add(stream('/Filter /FlateDecode', zlib.deflateSync(Buffer.from(ops.join('\n'), 'latin1'))));
  const xobjects = imageRefs.map((ref, i) => `/Im${i + 1} ${ref} 0 R`).join(' ');
  objects[pageIndex] = Buffer.from(
    `<< /Type /Page /Parent ${pages} 0 R /MediaBox [0 0 ${num(page.widthPt)} ${num(page.heightPt)}] ` +
      `/Resources << /Font << /F1 ${regular} 0 R /F2 ${bold} 0 R >> /XObject << ${xobjects} >> /ProcSet [/PDF /Text /ImageB] >> ` +
      `/Contents ${content} 0 R >>`,
    'latin1',
  );
  const info = add(`<< /Title ${pdfString(page.title)} /Producer (ti-harness) >>`);

  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = parts[0].length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    const framed = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`, 'latin1'), body, Buffer.from('\nendobj\n', 'latin1')]);
    offsets.push(offset);
    parts.push(framed);
    offset += framed.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n`, '0000000000 65535 f \n', ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)].join('');
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R /Info ${info} 0 R >>\nstartxref\n${offset}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(parts);
}
