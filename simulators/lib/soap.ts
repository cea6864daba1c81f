/**
 * SOAP 1.1 for the simulators that speak the Konnektor's interfaces: strict parsing of request
 * envelopes, response envelopes, and SOAP Faults that carry a gematik `TelematikError`
 * (tel/error/TelematikError.xsd, namespace http://ws.gematik.de/tel/error/v2.0) in their detail.
 *
 *   const req = parseSoapEnvelope(body);               // throws SoapFault (4000 Syntaxfehler) on bad input
 *   req.body.is(NS, 'GetCards') …
 *   const xml = soapEnvelope(responseElement);
 *   throw konnektorFault(4004, 'no Mandant "M9"');     // → <soap:Fault> … <GERROR:Code>4004</GERROR:Code> …
 *
 * The error codes and texts are those of the Konnektor specification (gemSpec_Kon); the table
 * below lists the codes the simulator uses and says where each fact was found.
 */
import * as crypto from 'node:crypto';
import { el, NsElement, parseXml, serialize, XmlParseError, type XmlElement, type XmlNode } from './xml';

export const SOAP11_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_ENVELOPE_NS = 'http://www.w3.org/2003/05/soap-envelope';
export const GERROR_NS = 'http://ws.gematik.de/tel/error/v2.0';
export const SOAP_CONTENT_TYPE = 'text/xml; charset=utf-8';

// ---------------------------------------------------------------------------
// gematik error codes
// ---------------------------------------------------------------------------

export type ErrorType = 'Technical' | 'Security' | 'Business' | 'Infrastructure' | 'Other';
export type ErrorSeverity = 'Info' | 'Warning' | 'Error' | 'Fatal';

export interface GematikErrorCode {
  code: number;
  /** ErrorText as the specification words it (German). */
  text: string;
  type: ErrorType;
  severity: ErrorSeverity;
  /** Who is to blame in SOAP terms: the caller's message (Client) or the Konnektor (Server). */
  faultcode: 'Client' | 'Server';
}

/**
 * The gematik error codes the simulator raises. Codes 4004–4021 and 4204 with their texts are the
 * Konnektor error list of gematik's own Authenticator (public source, `CONNECTOR_ERROR_CODES`);
 * 4008 with type/severity from recorded Konnektor faults in public client tests; 4203 from
 * gematik's E-Rezept test client (`EjectCardResult`); 4000/4001 are gemSpec_Kon's generic codes.
 * Other helpers may add codes with `registerErrorCode` (e.g. the signature service's codes).
 */
export const GEMATIK_ERRORS: Record<number, GematikErrorCode> = {};

export function registerErrorCode(e: GematikErrorCode): GematikErrorCode {
  GEMATIK_ERRORS[e.code] = e;
  return e;
}

for (const e of [
  { code: 4000, text: 'Syntaxfehler', type: 'Technical', severity: 'Error', faultcode: 'Client' },
  { code: 4001, text: 'Interner Fehler', type: 'Technical', severity: 'Fatal', faultcode: 'Server' },
  { code: 4004, text: 'Ungültige Mandanten-ID', type: 'Security', severity: 'Error', faultcode: 'Client' },
  { code: 4005, text: 'Ungültige Clientsystem-ID', type: 'Security', severity: 'Error', faultcode: 'Client' },
  { code: 4006, text: 'Ungültige Arbeitsplatz-ID', type: 'Security', severity: 'Error', faultcode: 'Client' },
  { code: 4008, text: 'Karte nicht als gesteckt identifiziert', type: 'Technical', severity: 'Error', faultcode: 'Server' },
  { code: 4010, text: 'Clientsystem ist dem Mandanten nicht zugeordnet', type: 'Security', severity: 'Error', faultcode: 'Client' },
  { code: 4011, text: 'Arbeitsplatz ist dem Mandanten nicht zugeordnet', type: 'Security', severity: 'Error', faultcode: 'Client' },
  { code: 4012, text: 'Kartenterminal ist dem Mandanten nicht zugeordnet', type: 'Security', severity: 'Error', faultcode: 'Client' },
  { code: 4014, text: 'Für den Mandanten ist der Arbeitsplatz nicht dem Clientsystem zugeordnet', type: 'Security', severity: 'Error', faultcode: 'Client' },
  { code: 4015, text: 'Kartenterminal ist weder lokal noch entfernt vom Arbeitsplatz aus zugreifbar', type: 'Security', severity: 'Error', faultcode: 'Client' },
  { code: 4016, text: 'Kartenterminal ist nicht lokal vom Arbeitsplatz aus zugreifbar', type: 'Security', severity: 'Error', faultcode: 'Client' },
  { code: 4020, text: 'Kartenterminal ist weder lokal noch entfernt über irgendeinen dem Clientsystem zugeordneten Arbeitsplatz aus zugreifbar', type: 'Security', severity: 'Error', faultcode: 'Client' },
  { code: 4021, text: 'Es sind nicht alle Pflichtparameter Mandant-Id, Clientsystem-Id, Arbeitsplatz-Id gefüllt', type: 'Security', severity: 'Error', faultcode: 'Client' },
  { code: 4203, text: 'Karte deaktiviert, aber nicht entnommen', type: 'Technical', severity: 'Error', faultcode: 'Server' },
  { code: 4204, text: 'Clientsystem aus dem Aufrufkontext konnte nicht authentifiziert werden', type: 'Security', severity: 'Error', faultcode: 'Client' },
] as GematikErrorCode[]) {
  registerErrorCode(e);
}

// ---------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------

export interface TelematikTrace {
  code: number;
  errorText: string;
  errorType: string;
  severity: string;
  /** Free text for humans (Trace/Detail). */
  detail?: string;
  compType?: string;
}

/** A SOAP 1.1 Fault; with a gematik trace it renders a GERROR:Error detail. */
export class SoapFault extends Error {
  override name = 'SoapFault';
  constructor(
    /** soap:Client, soap:Server or soap:VersionMismatch. */
    readonly faultcode: 'Client' | 'Server' | 'VersionMismatch',
    readonly faultstring: string,
    readonly trace: TelematikTrace[] = [],
    /** HTTP status of the fault response (SOAP 1.1 over HTTP: 500). */
    readonly httpStatus = 500,
  ) {
    super(trace.length ? `${trace[0].code} ${faultstring}${trace[0].detail ? `: ${trace[0].detail}` : ''}` : faultstring);
  }

  /** The gematik error code of the first trace entry, if any. */
  get code(): number | undefined {
    return this.trace[0]?.code;
  }

  get detail(): string | undefined {
    return this.trace[0]?.detail;
  }
}

export function isSoapFault(e: unknown): e is SoapFault {
  return e instanceof SoapFault;
}

/**
 * A fault with a gematik error code: ErrorText, ErrorType and Severity come from GEMATIK_ERRORS;
 * `detail` (what exactly was wrong) goes into Trace/Detail. Unknown codes are allowed (text =
 * detail, Technical/Error) so a new code never crashes the simulator.
 */
export function konnektorFault(code: number, detail?: string, httpStatus = 500): SoapFault {
  const known = GEMATIK_ERRORS[code];
  const text = known?.text ?? detail ?? `Fehler ${code}`;
  return new SoapFault(
    known?.faultcode ?? 'Server',
    text,
    [{ code, errorText: text, errorType: known?.type ?? 'Technical', severity: known?.severity ?? 'Error', detail, compType: 'KON' }],
    httpStatus,
  );
}

/** GERROR:Error element (TelematikError.xsd) for a fault detail or a Status/Error. */
export function telematikErrorElement(trace: TelematikTrace[], opts: { messageId?: string; timestamp?: Date } = {}): XmlElement {
  const G = (local: string, children: XmlNode[] | XmlNode = [], attrs: Record<string, string> = {}) => el(`GERROR:${local}`, attrs, children);
  return el('GERROR:Error', { 'xmlns:GERROR': GERROR_NS }, [
    G('MessageID', opts.messageId ?? crypto.randomUUID()),
    G('Timestamp', (opts.timestamp ?? new Date()).toISOString()),
    ...trace.map((t) =>
      G('Trace', [
        G('EventID', crypto.randomUUID()),
        G('Instance', crypto.randomUUID()),
        G('LogReference', ''),
        G('CompType', t.compType ?? 'KON'),
        G('Code', String(t.code)),
        G('Severity', t.severity),
        G('ErrorType', t.errorType),
        G('ErrorText', t.errorText),
        ...(t.detail !== undefined ? [G('Detail', t.detail, { Encoding: 'text/plain' })] : []),
      ]),
    ),
  ]);
}

// ---------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------

export interface SoapEnvelope {
  /** The Envelope element. */
  envelope: NsElement;
  /** The Header element, if present. */
  header?: NsElement;
  /** The one element inside Body (the operation's request element). */
  body: NsElement;
}

/** Options for parseSoapEnvelope. */
export interface ParseSoapOptions {
  /** Refuse documents larger than this many characters (the HTTP layer limits bytes first). */
  maxChars?: number;
}

const syntax = (detail: string) => konnektorFault(4000, detail);

/**
 * Parses a SOAP 1.1 request strictly: well-formed UTF-8 XML without DTD, root soap:Envelope, an
 * optional soap:Header, exactly one soap:Body holding exactly one element and no text. Everything
 * else is a SoapFault with code 4000 (SOAP 1.2 envelopes: VersionMismatch).
 */
export function parseSoapEnvelope(input: Buffer | string, opts: ParseSoapOptions = {}): SoapEnvelope {
  let text: string;
  if (Buffer.isBuffer(input)) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw syntax('the request is not valid UTF-8');
    }
  } else text = input;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (!text.trim()) throw syntax('the request body is empty (expected a SOAP envelope)');
  if (opts.maxChars !== undefined && text.length > opts.maxChars) throw syntax(`the request has more than ${opts.maxChars} characters`);
  const decl = /^<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/i.exec(text);
  if (decl && !/^utf-?8$/i.test(decl[1])) throw syntax(`encoding "${decl[1]}" is not supported (use UTF-8)`);
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (e) {
    throw syntax(`the request is not well-formed XML: ${e instanceof XmlParseError ? e.message : String(e)}`);
  }
  const envelope = NsElement.of(root);
  if (envelope.is(SOAP12_ENVELOPE_NS, 'Envelope')) {
    throw new SoapFault('VersionMismatch', 'SOAP 1.2 is not supported; the Konnektor speaks SOAP 1.1', [], 500);
  }
  if (!envelope.is(SOAP11_ENVELOPE_NS, 'Envelope')) {
    throw syntax(`the root element is {${envelope.ns}}${envelope.local}, expected a SOAP 1.1 Envelope ({${SOAP11_ENVELOPE_NS}}Envelope)`);
  }
  if (envelope.hasOwnText()) throw syntax('text directly inside soap:Envelope');
  const parts = envelope.children();
  let i = 0;
  let header: NsElement | undefined;
  if (parts[i]?.is(SOAP11_ENVELOPE_NS, 'Header')) header = parts[i++];
  const bodyEl = parts[i++];
  if (!bodyEl || !bodyEl.is(SOAP11_ENVELOPE_NS, 'Body')) throw syntax('soap:Envelope has no soap:Body (after an optional soap:Header)');
  if (i < parts.length) throw syntax(`unexpected element ${parts[i].name} after soap:Body`);
  if (bodyEl.hasOwnText()) throw syntax('text directly inside soap:Body');
  const inBody = bodyEl.children();
  if (inBody.length === 0) throw syntax('soap:Body is empty (expected the operation\'s request element)');
  if (inBody.length > 1) throw syntax(`soap:Body holds ${inBody.length} elements; a document/literal request has exactly one`);
  if (header) {
    for (const h of header.children()) {
      const mu = h.element.attrs.find(([k]) => k === 'mustUnderstand' || k.endsWith(':mustUnderstand'));
      if (mu && (mu[1] === '1' || mu[1] === 'true')) {
        throw new SoapFault('Client', `header {${h.ns}}${h.local} with mustUnderstand is not understood`, [], 500);
      }
    }
  }
  return { envelope, header, body: inBody[0] };
}

/** A SOAP 1.1 response envelope around `bodyChild` (an element or its serialized XML). */
export function soapEnvelope(bodyChild: XmlElement | string): string {
  const inner = typeof bodyChild === 'string' ? bodyChild.replace(/^\s*<\?xml[^>]*\?>\s*/, '') : serialize(bodyChild);
  return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="${SOAP11_ENVELOPE_NS}"><soap:Body>${inner}</soap:Body></soap:Envelope>`;
}

/** The Fault element of a SoapFault (faultcode, faultstring, detail with GERROR:Error). */
export function soapFaultElement(fault: SoapFault, opts: { messageId?: string; timestamp?: Date } = {}): XmlElement {
  const children: XmlNode[] = [el('faultcode', {}, `soap:${fault.faultcode}`), el('faultstring', {}, fault.faultstring)];
  if (fault.trace.length) children.push(el('detail', {}, [telematikErrorElement(fault.trace, opts)]));
  return el('soap:Fault', {}, children);
}

/** A complete fault response envelope. */
export function soapFaultEnvelope(fault: SoapFault, opts: { messageId?: string; timestamp?: Date } = {}): string {
  return soapEnvelope(soapFaultElement(fault, opts));
}

/** The SOAPAction header value without the quotes SOAP 1.1 puts around it (undefined when absent). */
export function soapActionOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const v = (Array.isArray(header) ? header[0] : header).trim();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/**
 * Reads a fault from a response envelope (for clients and tests): faultcode, faultstring and the
 * gematik trace entries. Undefined when the body holds no Fault.
 */
export function readSoapFault(xml: string): { faultcode: string; faultstring: string; trace: TelematikTrace[] } | undefined {
  const env = parseSoapEnvelope(xml);
  if (!env.body.is(SOAP11_ENVELOPE_NS, 'Fault')) return undefined;
  const f = env.body;
  const err = f.child('detail')?.child('Error', GERROR_NS);
  const trace = (err?.children('Trace', GERROR_NS) ?? []).map((t) => ({
    code: Number(t.child('Code', GERROR_NS)?.text()),
    errorText: t.child('ErrorText', GERROR_NS)?.text() ?? '',
    errorType: t.child('ErrorType', GERROR_NS)?.text() ?? '',
    severity: t.child('Severity', GERROR_NS)?.text() ?? '',
    detail: t.child('Detail', GERROR_NS)?.text(),
    compType: t.child('CompType', GERROR_NS)?.text(),
  }));
  return { faultcode: f.child('faultcode')?.text() ?? '', faultstring: f.child('faultstring')?.text() ?? '', trace };
}
