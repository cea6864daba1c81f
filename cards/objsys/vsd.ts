/**
 * Versichertenstammdaten (VSD) of an eGK persona: the files of DF.HCA as the G2.1 eGK image holds them.
 *
 *   EF.PD       2-byte length ‖ gzip(UC_PersoenlicheVersichertendatenXML)
 *   EF.VD       4 × 2-byte offsets (start/end VD, start/end GVD, ends inclusive) ‖ gzip(VD) ‖ gzip(GVD)
 *   EF.GVD      2-byte length ‖ gzip(UC_GeschuetzteVersichertendatenXML)
 *   EF.StatusVD status '0' ‖ timestamp YYYYMMDDhhmmss (ASCII) ‖ version 5.2.0 (BCD) ‖ reserved, 25 bytes
 *
 * XML: namespace http://ws.gematik.de/fa/vsdm/vsd/v5.2, CDM_VERSION 5.2.0, encoding ISO-8859-15, in the element
 * order of the image's documents.
 */
import * as zlib from 'node:zlib';
import type { EgkPersona } from '../persona';

const NS = 'http://ws.gematik.de/fa/vsdm/vsd/v5.2';
const CDM_VERSION = '5.2.0';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function elem(name: string, content: string | undefined): string {
  return content === undefined || content === '' ? '' : `<${name}>${content}</${name}>`;
}

const text = (name: string, v: string | undefined) => elem(name, v === undefined ? undefined : esc(v));
const compactDate = (iso: string | undefined) => (iso ? iso.replace(/-/g, '') : undefined);

/** UC_PersoenlicheVersichertendatenXML of the persona. */
export function personalDataXml(p: EgkPersona): string {
  const a = p.person.address;
  const address = a
    ? elem(
        'StrassenAdresse',
        text('Postleitzahl', a.postalCode) +
          text('Ort', a.city) +
          elem('Land', text('Wohnsitzlaendercode', 'D')) +
          text('Strasse', a.street) +
          text('Hausnummer', a.houseNumber),
      )
    : '';
  const person =
    text('Geburtsdatum', compactDate(p.person.birthDate)) +
    text('Vorname', p.person.givenName) +
    text('Nachname', p.person.surname) +
    text('Geschlecht', p.person.sex) +
    text('Titel', p.person.title) +
    address;
  return (
    `<?xml version="1.0" encoding="ISO-8859-15" standalone="yes"?>` +
    `<UC_PersoenlicheVersichertendatenXML CDM_VERSION="${CDM_VERSION}" xmlns="${NS}">` +
    `<Versicherter>${text('Versicherten_ID', p.insurance.kvnr)}<Person>${person}</Person></Versicherter>` +
    `</UC_PersoenlicheVersichertendatenXML>`
  );
}

/** UC_AllgemeineVersicherungsdatenXML: insurance cover and insurer. */
export function insuranceDataXml(p: EgkPersona): string {
  const insurer = text('Kostentraegerkennung', p.insurance.iknr) + text('Kostentraegerlaendercode', 'D') + text('Name', p.insurance.insurer);
  const zusatz =
    p.insurance.type === 'GKV'
      ? elem('Zusatzinfos', elem('ZusatzinfosGKV', text('Versichertenart', '1') + elem('Zusatzinfos_Abrechnung_GKV', text('WOP', '72'))))
      : '';
  return (
    `<?xml version="1.0" encoding="ISO-8859-15"?>` +
    `<UC_AllgemeineVersicherungsdatenXML xmlns="${NS}" CDM_VERSION="${CDM_VERSION}">` +
    `<Versicherter><Versicherungsschutz>${text('Beginn', compactDate(p.insurance.since))}` +
    `<Kostentraeger>${insurer}${elem('AbrechnenderKostentraeger', insurer)}</Kostentraeger></Versicherungsschutz>${zusatz}</Versicherter>` +
    `</UC_AllgemeineVersicherungsdatenXML>`
  );
}

/** UC_GeschuetzteVersichertendatenXML: co-payment status and selective contracts. */
export function protectedDataXml(): string {
  return (
    `<?xml version="1.0" encoding="ISO-8859-15"?>` +
    `<UC_GeschuetzteVersichertendatenXML xmlns="${NS}" CDM_VERSION="${CDM_VERSION}">` +
    `<Zuzahlungsstatus><Status>0</Status></Zuzahlungsstatus>` +
    `<Selektivvertraege><Aerztlich>9</Aerztlich><Zahnaerztlich>9</Zahnaerztlich></Selektivvertraege>` +
    `</UC_GeschuetzteVersichertendatenXML>`
  );
}

/** gzip of the XML in ISO-8859-15 (Latin-1 covers every character the personas use). */
function gz(xml: string): Buffer {
  return zlib.gzipSync(Buffer.from(xml, 'latin1'));
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

export interface VsdFiles {
  pd: Buffer;
  vd: Buffer;
  gvd: Buffer;
  statusVd: Buffer;
}

/** The bodies of EF.PD, EF.VD, EF.GVD and EF.StatusVD for the persona; `written` is the VSD timestamp. */
export function vsdFiles(p: EgkPersona, written: Date): VsdFiles {
  const pdz = gz(personalDataXml(p));
  const vdz = gz(insuranceDataXml(p));
  const gvdz = gz(protectedDataXml());
  const vdStart = 8;
  const vdEnd = vdStart + vdz.length - 1;
  const gvdStart = vdEnd + 1;
  const gvdEnd = gvdStart + gvdz.length - 1;
  const ts = written.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return {
    pd: Buffer.concat([u16(pdz.length), pdz]),
    vd: Buffer.concat([u16(vdStart), u16(vdEnd), u16(gvdStart), u16(gvdEnd), vdz, gvdz]),
    gvd: Buffer.concat([u16(gvdz.length), gvdz]),
    statusVd: Buffer.concat([Buffer.from(`0${ts}`, 'ascii'), Buffer.from('00500200000030000004', 'hex')]),
  };
}
