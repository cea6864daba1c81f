/**
 * OASIS-DSS shaped messages of the signature services (SignatureService 7.5, AuthSignatureService
 * 7.4): strict request parsing into plain objects and response building, without any card or
 * crypto work. Element names, order and namespaces as in SignatureService_V7_5_6.xsd,
 * SignatureService.xsd (v7.4, ExternalAuthenticate), ConnectorCommon.xsd, the OASIS DSS core
 * schema and the DSS-X verification report profile (oasis-dssx-1.0-profiles-vr-cd1.xsd).
 *
 * Every problem with a request is a SoapFault 4000 (Syntaxfehler) naming what is wrong.
 */
import { konnektorFault, registerErrorCode, telematikErrorElement, type TelematikTrace } from '../lib/soap';
import { el, type NsElement, type XmlElement, type XmlNode } from '../lib/xml';
import { KONNEKTOR_NS } from '../lib/konnektor-namespaces';

export const DSS_NS = {
  ...KONNEKTOR_NS,
  /** Harness-specific elements inside dss:AnyType slots of the verification report. */
  TI: 'urn:ti-harness:konnektor:verification:v1',
} as const;

/** SOAPActions of the WSDL bindings. */
export const SIG75_ACTION = (op: string) => `${DSS_NS.SIG75}#${op}`;
export const SIG74_ACTION = (op: string) => `${DSS_NS.SIG74}#${op}`;

/** dss:SignatureType URIs (gemSpec_Kon TAB_KON_582/583; ExternalAuthenticate: SignatureService 7.4.1). */
export const SIGNATURE_TYPE = {
  CMS: 'urn:ietf:rfc:5652',
  XADES: 'http://uri.etsi.org/01903/v1.3.2#',
  PADES: 'http://uri.etsi.org/01903/v1.3.2#PAdES',
  /** Also seen for CAdES in DSS profiles. */
  CADES_ETSI: 'http://uri.etsi.org/01733/v2.2.1#',
  ECDSA: 'urn:bsi:tr:03111:ecdsa',
  RSA: 'urn:ietf:rfc:3447',
} as const;

/** Largest document the simulator signs (the CMS library's content limit). */
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Error codes of the signature services
// ---------------------------------------------------------------------------

/**
 * The gematik codes this module family raises beyond lib/soap.ts's table. Where the fact came
 * from is recorded in docs/konnektor.md ("SignatureService / AuthSignatureService"); the public
 * Markdown conversion of gemSpec_Kon drops the error tables, so codes whose number is not
 * confirmed by a public source are marked there.
 */
export const SIG_ERRORS = {
  /** A_18756: signature type/variant not supported for signature creation. */
  signatureTypeNotSupported: registerErrorCode({ code: 4111, text: 'Signaturtyp oder Signaturvariante wird nicht unterstützt', type: 'Technical', severity: 'Error', faultcode: 'Client' }),
  /** A_18756: signature type/variant not supported for signature verification. */
  verifyTypeNotSupported: registerErrorCode({ code: 4112, text: 'Signaturtyp oder Signaturvariante wird für die Prüfung nicht unterstützt', type: 'Technical', severity: 'Error', faultcode: 'Client' }),
  /** poc-komfortsignatur (ComfortSignatureResult.ERROR_TEXT_4018). */
  otherUserSession: registerErrorCode({ code: 4018, text: 'Der HBAx hat mindestens eine Kartensitzung zu einer anderen UserId, deren Sicherheitszustand erhöht ist.', type: 'Security', severity: 'Error', faultcode: 'Client' }),
  /** A_20074, poc-komfortsignatur documentation. */
  userIdReused: registerErrorCode({ code: 4270, text: 'UserId wurde in den letzten 1.000 Vorgängen bereits verwendet', type: 'Technical', severity: 'Error', faultcode: 'Client' }),
  /** A_20073-01, poc-komfortsignatur documentation. */
  userIdNotAllowed: registerErrorCode({ code: 4272, text: 'UserId nicht zulässig', type: 'Technical', severity: 'Error', faultcode: 'Client' }),
  /**
   * Card of a type the operation does not accept, or a card whose PIN status forbids the access:
   * gematik's Authenticator knows 4047 as "Card handle ungültig, wrong card or missing pin".
   */
  wrongCardType: registerErrorCode({ code: 4047, text: 'Karte für diese Operation nicht zulässig oder nicht freigeschaltet', type: 'Security', severity: 'Error', faultcode: 'Client' }),
  /** PIN blocked (retry counter 0) (unconfirmed number, see docs). */
  pinBlocked: registerErrorCode({ code: 4063, text: 'PIN ist gesperrt', type: 'Security', severity: 'Error', faultcode: 'Server' }),
  /** Wrong PIN entered at the PIN pad (unconfirmed number, see docs). */
  pinRejected: registerErrorCode({ code: 4064, text: 'PIN-Eingabe falsch', type: 'Security', severity: 'Error', faultcode: 'Server' }),
  /** Document larger than the Konnektor accepts (unconfirmed number, see docs). */
  documentTooLarge: registerErrorCode({ code: 4115, text: 'Dokument überschreitet die zulässige Größe', type: 'Technical', severity: 'Error', faultcode: 'Client' }),
  /** StopSignature for a job number without a running job (unconfirmed number, see docs). */
  unknownJob: registerErrorCode({ code: 4260, text: 'Jobnummer unbekannt oder Auftrag bereits beendet', type: 'Technical', severity: 'Error', faultcode: 'Client' }),
  /** Comfort signature switched off in the Konnektor (unconfirmed number, see docs). */
  comfortDisabled: registerErrorCode({ code: 4271, text: 'Komfortsignatur ist im Konnektor nicht eingeschaltet', type: 'Technical', severity: 'Error', faultcode: 'Client' }),
  /** Signer certificate revoked or expired before signing (unconfirmed number, see docs). */
  signerCertificateInvalid: registerErrorCode({ code: 4113, text: 'Signaturzertifikat ist nicht gültig', type: 'Security', severity: 'Error', faultcode: 'Server' }),
  /** Job stopped by StopSignature (unconfirmed number, see docs). */
  jobStopped: registerErrorCode({ code: 4261, text: 'Signaturauftrag wurde abgebrochen', type: 'Technical', severity: 'Warning', faultcode: 'Server' }),
} as const;

const syntax = (detail: string) => konnektorFault(4000, detail);

// ---------------------------------------------------------------------------
// Small strict readers
// ---------------------------------------------------------------------------

/** Checks that `e` has only children out of `allowed` (expanded names), each at most once unless listed in `repeatable`. */
function checkChildren(e: NsElement, what: string, allowed: Array<[string, string]>, repeatable: string[] = []): void {
  if (e.hasOwnText()) throw syntax(`text directly inside ${what}`);
  const seen = new Set<string>();
  for (const c of e.children()) {
    const ok = allowed.some(([ns, local]) => c.ns === ns && c.local === local);
    if (!ok) throw syntax(`unexpected element {${c.ns}}${c.local} in ${what} (allowed: ${allowed.map(([, l]) => l).join(', ')})`);
    if (seen.has(c.local) && !repeatable.includes(c.local)) throw syntax(`${what} holds ${c.local} more than once`);
    seen.add(c.local);
  }
}

/** Checks the order of children (a subsequence of `order`). */
function checkOrder(e: NsElement, what: string, order: string[]): void {
  let pos = 0;
  for (const c of e.children()) {
    const at = order.indexOf(c.local, pos);
    if (at < 0) throw syntax(`${c.local} is out of order in ${what} (expected order: ${order.join(', ')})`);
    pos = at;
  }
}

function required(e: NsElement, local: string, ns: string, what: string): NsElement {
  const c = e.child(local, ns);
  if (!c) throw syntax(`${what} lacks the required element ${local}`);
  return c;
}

function simpleText(e: NsElement, what: string): string {
  if (e.children().length) throw syntax(`${what} must hold text only`);
  return e.text();
}

function parseBoolean(e: NsElement, what: string): boolean {
  const v = simpleText(e, what).trim();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw syntax(`${what} is not an xs:boolean: "${v}"`);
}

/** Strict xs:base64Binary (whitespace allowed, canonical padding). */
export function decodeBase64Strict(text: string, what: string): Buffer {
  const s = text.replace(/[\s]+/g, '');
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw syntax(`${what} is not valid base64`);
  const out = Buffer.from(s, 'base64');
  if (out.toString('base64') !== s) throw syntax(`${what} is not canonical base64`);
  return out;
}

function cardHandle(e: NsElement, what: string): string {
  const h = simpleText(e, `${what}/CardHandle`).trim();
  if (!h) throw syntax(`${what}/CardHandle is empty`);
  if (h.length > 128) throw syntax(`${what}/CardHandle is longer than 128 characters`);
  return h;
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

export type TvMode = 'NONE' | 'UNCONFIRMED' | 'CONFIRMED';

export interface DssDocument {
  /** The document bytes (Base64Data or Base64XML). */
  content: Buffer;
  /** Base64Data@MimeType. */
  mimeType?: string;
  /** true when given as CONN:Base64XML. */
  isXml: boolean;
  shortText?: string;
  id?: string;
  refUri?: string;
}

export interface SignRequestInput {
  requestId: string;
  signatureType?: string;
  includeEContent?: boolean;
  includeRevocationInfo: boolean;
  document: DssDocument;
  /** Optional inputs the simulator does not implement (reported, not silently dropped). */
  unsupportedInputs: string[];
}

export interface SignDocumentInput {
  cardHandle: string;
  crypt?: 'RSA' | 'ECC' | 'RSA_ECC';
  tvMode: TvMode;
  jobNumber?: string;
  requests: SignRequestInput[];
}

const SHORT_TEXT = /^[a-zA-Z 0-9_.\-äöüÄÖÜß]*$/;

function parseDocument(d: NsElement, what: string, maxBytes: number): DssDocument {
  checkChildren(d, what, [
    [DSS_NS.CONN, 'Base64XML'],
    [DSS_NS.DSS, 'Base64Data'],
  ]);
  const kids = d.children();
  if (kids.length !== 1) throw syntax(`${what} must hold exactly one of CONN:Base64XML, dss:Base64Data`);
  const k = kids[0];
  const raw = simpleText(k, `${what}/${k.local}`);
  // Reject before decoding what cannot fit: base64 length * 3/4.
  if (Math.floor((raw.replace(/\s+/g, '').length * 3) / 4) > maxBytes + 2) {
    throw konnektorFault(SIG_ERRORS.documentTooLarge.code, `${what} is larger than ${maxBytes} bytes`);
  }
  const content = decodeBase64Strict(raw, `${what}/${k.local}`);
  if (content.length > maxBytes) throw konnektorFault(SIG_ERRORS.documentTooLarge.code, `${what} has ${content.length} bytes, more than ${maxBytes}`);
  const shortText = d.attr('ShortText');
  if (shortText !== undefined && (shortText.length > 30 || !SHORT_TEXT.test(shortText))) {
    // SIG:ShortText element restrictions (maxLength 30, pattern), applied to the attribute as Konnektors do (C_10147).
    throw syntax(`${what}/@ShortText "${shortText}" violates the ShortText restrictions (max. 30 characters of [a-zA-Z 0-9_.-äöüÄÖÜß])`);
  }
  return {
    content,
    mimeType: k.local === 'Base64Data' ? k.attr('MimeType') : undefined,
    isXml: k.local === 'Base64XML',
    ...(shortText !== undefined ? { shortText } : {}),
    ...(d.attr('ID') !== undefined ? { id: d.attr('ID') } : {}),
    ...(d.attr('RefURI') !== undefined ? { refUri: d.attr('RefURI') } : {}),
  };
}

function parseSignRequest(r: NsElement, index: number, maxBytes: number): SignRequestInput {
  const what = `SignRequest[${index + 1}]`;
  const requestId = r.attr('RequestID');
  if (requestId === undefined) throw syntax(`${what} lacks the required attribute RequestID`);
  checkChildren(r, what, [
    [DSS_NS.SIG75, 'OptionalInputs'],
    [DSS_NS.SIG75, 'Document'],
    [DSS_NS.SIG75, 'IncludeRevocationInfo'],
  ]);
  checkOrder(r, what, ['OptionalInputs', 'Document', 'IncludeRevocationInfo']);
  const doc = parseDocument(required(r, 'Document', DSS_NS.SIG75, what), `${what}/Document`, maxBytes);
  const includeRevocationInfo = parseBoolean(required(r, 'IncludeRevocationInfo', DSS_NS.SIG75, what), `${what}/IncludeRevocationInfo`);
  const out: SignRequestInput = { requestId, includeRevocationInfo, document: doc, unsupportedInputs: [] };
  const oi = r.child('OptionalInputs', DSS_NS.SIG75);
  if (oi) {
    const w = `${what}/OptionalInputs`;
    checkChildren(oi, w, [
      [DSS_NS.DSS, 'SignatureType'],
      [DSS_NS.DSS, 'Properties'],
      [DSS_NS.SIG75, 'IncludeEContent'],
      [DSS_NS.SIG75, 'IncludeObjects'],
      [DSS_NS.DSS, 'SignaturePlacement'],
      [DSS_NS.DSS, 'ReturnUpdatedSignature'],
      [DSS_NS.DSS, 'Schemas'],
      [DSS_NS.SP, 'GenerateUnderSignaturePolicy'],
      [DSS_NS.SIG75, 'ViewerInfo'],
    ]);
    for (const c of oi.children()) {
      switch (c.local) {
        case 'SignatureType': {
          const t = simpleText(c, `${w}/SignatureType`).trim();
          if (!t) throw syntax(`${w}/SignatureType is empty`);
          out.signatureType = t;
          break;
        }
        case 'IncludeEContent':
          out.includeEContent = parseBoolean(c, `${w}/IncludeEContent`);
          break;
        case 'ViewerInfo':
        case 'Schemas':
          break; // display hints for a trusted viewer; nothing to sign differently
        default:
          out.unsupportedInputs.push(c.local);
      }
    }
  }
  return out;
}

/** SIG:SignDocument (SignatureService 7.5). */
export function parseSignDocument(body: NsElement, opts: { maxDocumentBytes?: number } = {}): SignDocumentInput {
  const what = 'SignDocument';
  const maxBytes = opts.maxDocumentBytes ?? MAX_DOCUMENT_BYTES;
  checkChildren(
    body,
    what,
    [
      [DSS_NS.CONN, 'CardHandle'],
      [DSS_NS.SIG75, 'Crypt'],
      [DSS_NS.CCTX, 'Context'],
      [DSS_NS.SIG75, 'TvMode'],
      [DSS_NS.SIG75, 'JobNumber'],
      [DSS_NS.SIG75, 'SignRequest'],
    ],
    ['SignRequest'],
  );
  checkOrder(body, what, ['CardHandle', 'Crypt', 'Context', 'TvMode', 'JobNumber', 'SignRequest']);
  const handle = cardHandle(required(body, 'CardHandle', DSS_NS.CONN, what), what);
  required(body, 'Context', DSS_NS.CCTX, what);
  const tv = simpleText(required(body, 'TvMode', DSS_NS.SIG75, what), `${what}/TvMode`).trim();
  if (!['NONE', 'UNCONFIRMED', 'CONFIRMED'].includes(tv)) throw syntax(`${what}/TvMode "${tv}" is not NONE, UNCONFIRMED or CONFIRMED`);
  const cryptEl = body.child('Crypt', DSS_NS.SIG75);
  let crypt: SignDocumentInput['crypt'];
  if (cryptEl) {
    const c = simpleText(cryptEl, `${what}/Crypt`).trim();
    if (c !== 'RSA' && c !== 'ECC' && c !== 'RSA_ECC') throw syntax(`${what}/Crypt "${c}" is not RSA, ECC or RSA_ECC`);
    crypt = c;
  }
  const jobEl = body.child('JobNumber', DSS_NS.SIG75);
  let jobNumber: string | undefined;
  if (jobEl) {
    jobNumber = simpleText(jobEl, `${what}/JobNumber`).trim();
    if (!/^[A-Z]{3}-[0-9]{3}$/.test(jobNumber)) throw syntax(`${what}/JobNumber "${jobNumber}" does not match [A-Z]{3}-[0-9]{3}`);
  }
  const reqEls = body.children('SignRequest', DSS_NS.SIG75);
  if (!reqEls.length) throw syntax(`${what} holds no SignRequest`);
  const requests = reqEls.map((r, i) => parseSignRequest(r, i, maxBytes));
  const ids = new Set<string>();
  for (const r of requests) {
    if (ids.has(r.requestId)) throw syntax(`RequestID "${r.requestId}" occurs more than once in ${what}`);
    ids.add(r.requestId);
  }
  return { cardHandle: handle, ...(crypt ? { crypt } : {}), tvMode: tv as TvMode, ...(jobNumber ? { jobNumber } : {}), requests };
}

export interface VerifyDocumentInput {
  tvMode?: TvMode;
  /** UseVerificationTime: 'current' or a specific time. */
  verificationTime?: { kind: 'current' } | { kind: 'specific'; time: Date };
  returnVerificationReport: boolean;
  /** ReturnVerificationReport options. */
  reportOptions: { includeCertificateValues: boolean; includeRevocationValues: boolean };
  document?: DssDocument;
  /** dss:SignatureObject/dss:Base64Signature. */
  signature?: { value: Buffer; type?: string };
  includeRevocationInfo: boolean;
  unsupportedInputs: string[];
}

/** SIG:VerifyDocument (SignatureService 7.5). */
export function parseVerifyDocument(body: NsElement, opts: { maxDocumentBytes?: number } = {}): VerifyDocumentInput {
  const what = 'VerifyDocument';
  const maxBytes = opts.maxDocumentBytes ?? MAX_DOCUMENT_BYTES;
  checkChildren(body, what, [
    [DSS_NS.CCTX, 'Context'],
    [DSS_NS.SIG75, 'TvMode'],
    [DSS_NS.SIG75, 'OptionalInputs'],
    [DSS_NS.SIG75, 'Document'],
    [DSS_NS.DSS, 'SignatureObject'],
    [DSS_NS.SIG75, 'IncludeRevocationInfo'],
  ]);
  checkOrder(body, what, ['Context', 'TvMode', 'OptionalInputs', 'Document', 'SignatureObject', 'IncludeRevocationInfo']);
  required(body, 'Context', DSS_NS.CCTX, what);
  const out: VerifyDocumentInput = {
    returnVerificationReport: false,
    reportOptions: { includeCertificateValues: false, includeRevocationValues: false },
    includeRevocationInfo: parseBoolean(required(body, 'IncludeRevocationInfo', DSS_NS.SIG75, what), `${what}/IncludeRevocationInfo`),
    unsupportedInputs: [],
  };
  const tvEl = body.child('TvMode', DSS_NS.SIG75);
  if (tvEl) {
    const tv = simpleText(tvEl, `${what}/TvMode`).trim();
    if (!['NONE', 'UNCONFIRMED', 'CONFIRMED'].includes(tv)) throw syntax(`${what}/TvMode "${tv}" is not NONE, UNCONFIRMED or CONFIRMED`);
    out.tvMode = tv as TvMode;
  }
  const oi = body.child('OptionalInputs', DSS_NS.SIG75);
  if (oi) {
    const w = `${what}/OptionalInputs`;
    checkChildren(oi, w, [
      [DSS_NS.SIG75, 'VerifyManifests'],
      [DSS_NS.SIG75, 'UseVerificationTime'],
      [DSS_NS.DSS, 'AdditionalKeyInfo'],
      [DSS_NS.VR, 'ReturnVerificationReport'],
      [DSS_NS.DSS, 'Schemas'],
      [DSS_NS.SIG75, 'ViewerInfo'],
    ]);
    for (const c of oi.children()) {
      if (c.local === 'UseVerificationTime') {
        const kids = c.children();
        if (kids.length !== 1) throw syntax(`${w}/UseVerificationTime must hold CurrentTime or SpecificTime`);
        const k = kids[0];
        if (k.is(DSS_NS.DSS, 'CurrentTime')) out.verificationTime = { kind: 'current' };
        else if (k.is(DSS_NS.DSS, 'SpecificTime')) {
          const t = simpleText(k, `${w}/UseVerificationTime/SpecificTime`).trim();
          const d = parseXsdDateTime(t);
          if (!d) throw syntax(`${w}/UseVerificationTime/SpecificTime "${t}" is not an xs:dateTime`);
          out.verificationTime = { kind: 'specific', time: d };
        } else throw syntax(`${w}/UseVerificationTime holds {${k.ns}}${k.local} (supported: dss:CurrentTime, dss:SpecificTime)`);
      } else if (c.local === 'ReturnVerificationReport') {
        out.returnVerificationReport = true;
        checkChildren(c, `${w}/ReturnVerificationReport`, [
          [DSS_NS.VR, 'IncludeVerifier'],
          [DSS_NS.VR, 'IncludeCertificateValues'],
          [DSS_NS.VR, 'IncludeRevocationValues'],
          [DSS_NS.VR, 'ExpandBinaryValues'],
          [DSS_NS.VR, 'ReportDetailLevel'],
        ]);
        const flag = (local: string) => {
          const f = c.child(local, DSS_NS.VR);
          return f ? parseBoolean(f, `${w}/ReturnVerificationReport/${local}`) : false;
        };
        out.reportOptions = { includeCertificateValues: flag('IncludeCertificateValues'), includeRevocationValues: flag('IncludeRevocationValues') };
      } else if (c.local !== 'Schemas' && c.local !== 'ViewerInfo') out.unsupportedInputs.push(c.local);
    }
  }
  const docEl = body.child('Document', DSS_NS.SIG75);
  if (docEl) out.document = parseDocument(docEl, `${what}/Document`, maxBytes);
  const so = body.child('SignatureObject', DSS_NS.DSS);
  if (so) {
    const kids = so.children();
    if (kids.length !== 1) throw syntax(`${what}/SignatureObject must hold exactly one signature`);
    const k = kids[0];
    if (!k.is(DSS_NS.DSS, 'Base64Signature')) {
      throw konnektorFault(SIG_ERRORS.verifyTypeNotSupported.code, `${what}/SignatureObject holds {${k.ns}}${k.local}; the simulator verifies CMS signatures given as dss:Base64Signature`);
    }
    const raw = simpleText(k, `${what}/SignatureObject/Base64Signature`);
    if (Math.floor((raw.replace(/\s+/g, '').length * 3) / 4) > maxBytes + 2) throw konnektorFault(SIG_ERRORS.documentTooLarge.code, `${what}/SignatureObject is larger than ${maxBytes} bytes`);
    out.signature = { value: decodeBase64Strict(raw, `${what}/SignatureObject/Base64Signature`), ...(k.attr('Type') ? { type: k.attr('Type') } : {}) };
  }
  if (!out.document && !out.signature) throw syntax(`${what} holds neither Document nor SignatureObject`);
  return out;
}

/** xs:dateTime → Date (a missing time zone is read as UTC). */
export function parseXsdDateTime(s: string): Date | undefined {
  const m = /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.exec(s);
  if (!m) return undefined;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}${m[8] ?? 'Z'}`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** SIG:GetJobNumber: only the Context, which the router checks. */
export function parseGetJobNumber(body: NsElement): void {
  checkChildren(body, 'GetJobNumber', [[DSS_NS.CCTX, 'Context']]);
  required(body, 'Context', DSS_NS.CCTX, 'GetJobNumber');
}

/** SIG:StopSignature. */
export function parseStopSignature(body: NsElement): { jobNumber: string } {
  const what = 'StopSignature';
  checkChildren(body, what, [
    [DSS_NS.CCTX, 'Context'],
    [DSS_NS.SIG75, 'JobNumber'],
  ]);
  checkOrder(body, what, ['Context', 'JobNumber']);
  required(body, 'Context', DSS_NS.CCTX, what);
  const jobNumber = simpleText(required(body, 'JobNumber', DSS_NS.SIG75, what), `${what}/JobNumber`).trim();
  if (!/^[A-Z]{3}-[0-9]{3}$/.test(jobNumber)) throw syntax(`${what}/JobNumber "${jobNumber}" does not match [A-Z]{3}-[0-9]{3}`);
  return { jobNumber };
}

/** ActivateComfortSignature / GetSignatureMode: CardHandle + Context. */
export function parseCardHandleAndContext(body: NsElement, what: string): { cardHandle: string } {
  checkChildren(body, what, [
    [DSS_NS.CONN, 'CardHandle'],
    [DSS_NS.CCTX, 'Context'],
  ]);
  checkOrder(body, what, ['CardHandle', 'Context']);
  required(body, 'Context', DSS_NS.CCTX, what);
  return { cardHandle: cardHandle(required(body, 'CardHandle', DSS_NS.CONN, what), what) };
}

/** DeactivateComfortSignature: one or more CardHandles, no Context. */
export function parseDeactivateComfortSignature(body: NsElement): { cardHandles: string[] } {
  const what = 'DeactivateComfortSignature';
  checkChildren(body, what, [[DSS_NS.CONN, 'CardHandle']], ['CardHandle']);
  const handles = body.children('CardHandle', DSS_NS.CONN).map((h) => cardHandle(h, what));
  if (!handles.length) throw syntax(`${what} holds no CardHandle`);
  return { cardHandles: handles };
}

export interface ExternalAuthenticateInput {
  cardHandle: string;
  signatureType?: string;
  signatureScheme?: 'RSASSA-PSS' | 'RSASSA-PKCS1-v1_5';
  data: Buffer;
}

/** SIG:ExternalAuthenticate (AuthSignatureService, namespace of SignatureService 7.4). */
export function parseExternalAuthenticate(body: NsElement, ns: string = DSS_NS.SIG74): ExternalAuthenticateInput {
  const what = 'ExternalAuthenticate';
  checkChildren(body, what, [
    [DSS_NS.CONN, 'CardHandle'],
    [DSS_NS.CCTX, 'Context'],
    [ns, 'OptionalInputs'],
    [ns, 'BinaryString'],
  ]);
  checkOrder(body, what, ['CardHandle', 'Context', 'OptionalInputs', 'BinaryString']);
  const handle = cardHandle(required(body, 'CardHandle', DSS_NS.CONN, what), what);
  required(body, 'Context', DSS_NS.CCTX, what);
  const out: ExternalAuthenticateInput = { cardHandle: handle, data: Buffer.alloc(0) };
  const oi = body.child('OptionalInputs', ns);
  if (oi) {
    checkChildren(oi, `${what}/OptionalInputs`, [
      [DSS_NS.DSS, 'SignatureType'],
      [ns, 'SignatureSchemes'],
    ]);
    const st = oi.child('SignatureType', DSS_NS.DSS);
    if (st) out.signatureType = simpleText(st, `${what}/OptionalInputs/SignatureType`).trim();
    const ss = oi.child('SignatureSchemes', ns);
    if (ss) {
      const v = simpleText(ss, `${what}/OptionalInputs/SignatureSchemes`).trim();
      if (v !== 'RSASSA-PSS' && v !== 'RSASSA-PKCS1-v1_5') throw syntax(`${what}/OptionalInputs/SignatureSchemes "${v}" is not RSASSA-PSS or RSASSA-PKCS1-v1_5`);
      out.signatureScheme = v;
    }
  }
  const bs = required(body, 'BinaryString', ns, what);
  checkChildren(bs, `${what}/BinaryString`, [[DSS_NS.DSS, 'Base64Data']]);
  const b64 = required(bs, 'Base64Data', DSS_NS.DSS, `${what}/BinaryString`);
  out.data = decodeBase64Strict(simpleText(b64, `${what}/BinaryString/Base64Data`), `${what}/BinaryString/Base64Data`);
  return out;
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

type Attrs = Record<string, string>;
const E = (name: string, children: XmlNode[] | XmlNode = [], attrs: Attrs = {}) => el(name, attrs, children);

/** Namespace declarations every response root carries (prefixes used below). */
function rootNs(sig: string): Attrs {
  return {
    'xmlns:SIG': sig,
    'xmlns:CONN': DSS_NS.CONN,
    'xmlns:dss': DSS_NS.DSS,
    'xmlns:GERROR': DSS_NS.GERROR,
  };
}

export interface StatusInput {
  result: 'OK' | 'Warning';
  /** GERROR:Error trace for a Warning (or an OK with information). */
  error?: TelematikTrace[];
}

export function statusElement(s: StatusInput, timestamp: Date): XmlElement {
  const children: XmlNode[] = [E('CONN:Result', s.result)];
  if (s.error?.length) {
    const g = telematikErrorElement(s.error, { timestamp });
    // telematikErrorElement declares xmlns:GERROR itself; the root declares it too, which is harmless.
    children.push(g);
  }
  return E('CONN:Status', children);
}

/** A trace entry for a Status/Error from a gematik code (text from the registered table). */
export function traceOf(code: number, detail?: string): TelematikTrace {
  const f = konnektorFault(code, detail);
  return f.trace[0];
}

export interface SignResponseOutput {
  requestId: string;
  status: StatusInput;
  /** DER CMS (CAdES) for dss:SignatureObject/dss:Base64Signature. */
  signature?: Buffer;
  signatureType?: string;
}

export function buildSignDocumentResponse(responses: SignResponseOutput[], timestamp: Date): XmlElement {
  return E(
    'SIG:SignDocumentResponse',
    responses.map((r) =>
      E(
        'SIG:SignResponse',
        [
          statusElement(r.status, timestamp),
          ...(r.signature ? [E('dss:SignatureObject', E('dss:Base64Signature', r.signature.toString('base64'), { Type: r.signatureType ?? SIGNATURE_TYPE.CMS }))] : []),
        ],
        { RequestID: r.requestId },
      ),
    ),
    rootNs(DSS_NS.SIG75),
  );
}

export function buildGetJobNumberResponse(jobNumber: string): XmlElement {
  return E('SIG:GetJobNumberResponse', E('SIG:JobNumber', jobNumber), { 'xmlns:SIG': DSS_NS.SIG75 });
}

export function buildStopSignatureResponse(timestamp: Date): XmlElement {
  return E('SIG:StopSignatureResponse', statusElement({ result: 'OK' }, timestamp), rootNs(DSS_NS.SIG75));
}

export function buildActivateComfortSignatureResponse(timestamp: Date, mode: 'PIN' | 'COMFORT'): XmlElement {
  return E('SIG:ActivateComfortSignatureResponse', [statusElement({ result: 'OK' }, timestamp), E('SIG:SignatureMode', mode)], rootNs(DSS_NS.SIG75));
}

export function buildDeactivateComfortSignatureResponse(timestamp: Date): XmlElement {
  return E('SIG:DeactivateComfortSignatureResponse', statusElement({ result: 'OK' }, timestamp), rootNs(DSS_NS.SIG75));
}

export interface SignatureModeOutput {
  status: 'ENABLED' | 'DISABLED';
  max: number;
  /** xs:duration */
  timer: string;
  session?: { mode: 'PIN' | 'COMFORT'; countRemaining: number; timeRemaining: string };
}

export function buildGetSignatureModeResponse(timestamp: Date, m: SignatureModeOutput): XmlElement {
  return E(
    'SIG:GetSignatureModeResponse',
    [
      statusElement({ result: 'OK' }, timestamp),
      E('SIG:ComfortSignatureStatus', m.status),
      E('SIG:ComfortSignatureMax', String(m.max)),
      E('SIG:ComfortSignatureTimer', m.timer),
      ...(m.session
        ? [
            E('SIG:SessionInfo', [
              E('SIG:SignatureMode', m.session.mode),
              E('SIG:CountRemaining', String(m.session.countRemaining)),
              E('SIG:TimeRemaining', m.session.timeRemaining),
            ]),
          ]
        : []),
    ],
    rootNs(DSS_NS.SIG75),
  );
}

export function buildExternalAuthenticateResponse(timestamp: Date, signature: Buffer, type: string, ns: string = DSS_NS.SIG74): XmlElement {
  return E(
    'SIG:ExternalAuthenticateResponse',
    [statusElement({ result: 'OK' }, timestamp), E('dss:SignatureObject', E('dss:Base64Signature', signature.toString('base64'), { Type: type }))],
    rootNs(ns),
  );
}

// ---------------------------------------------------------------------------
// VerifyDocument response and the verification report (DSS-X VR profile)
// ---------------------------------------------------------------------------

export type HighLevelResult = 'VALID' | 'INCONCLUSIVE' | 'INVALID';
export type TimestampType = 'SIGNATURE_EMBEDDED_TIMESTAMP' | 'QUALIFIED_TIMESTAMP' | 'USER_DEFINED_TIMESTAMP' | 'SYSTEM_TIMESTAMP';

/** VR profile detail results. */
export type DetailResult = 'valid' | 'invalid' | 'indetermined';
export const DETAIL = (r: DetailResult) => `urn:oasis:names:tc:dss:1.0:detail:${r}`;

export interface DetailValue {
  result: DetailResult;
  message?: string;
}

export interface CertificateReport {
  der: Buffer;
  issuer: string;
  serialDecimal: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  signatureAlgorithmUri: string;
  chaining: DetailValue;
  validityPeriod: DetailValue;
  extensions: DetailValue;
  signature: DetailValue;
  status: DetailValue;
  revocation?: { date: Date; reason: string };
  ocsp?: { responderId: string; producedAt: Date; der: Buffer; signature: DetailValue; source: 'embedded' | 'fetched' };
  /** Admission of the signer certificate (profession OID, Telematik-ID). */
  admission?: { professionOids: string[]; professionItems: string[]; registrationNumber?: string };
  includeValue: boolean;
}

export interface SignerReport {
  signatureValue: Buffer;
  format: DetailValue;
  sigMath: DetailValue;
  signatureAlgorithmUri: string;
  signingTime?: Date;
  signingCertificateDigest?: Buffer;
  pathSummary: DetailValue;
  trustAnchor: DetailValue;
  signerCertificate?: { issuer: string; serialDecimal: string };
  certificates: CertificateReport[];
  result: HighLevelResult;
  message: string;
}

export interface VerificationReportInput {
  verificationTime: Date;
  signers: SignerReport[];
  /** When the CMS itself could not be read. */
  formatError?: string;
}

export interface VerifyDocumentOutput {
  highLevelResult: HighLevelResult;
  timestampType: TimestampType;
  timestamp: Date;
  report?: VerificationReportInput;
  status: StatusInput;
}

const MAJOR_SUCCESS = 'urn:oasis:names:tc:dss:1.0:resultmajor:Success';
const MAJOR_INSUFFICIENT = 'urn:oasis:names:tc:dss:1.0:resultmajor:InsufficientInformation';
const MINOR_VALID = 'urn:oasis:names:tc:dss:1.0:resultminor:valid:signature:OnAllDocuments';
const MINOR_INVALID = 'urn:oasis:names:tc:dss:1.0:resultminor:invalid:IncorrectSignature';
const MINOR_INDETERMINATE = 'urn:oasis:names:tc:dss:1.0:resultminor:CertificateChainNotComplete';

function vrResult(name: string, d: DetailValue): XmlElement {
  return E(name, [E('vr:ResultMajor', DETAIL(d.result)), ...(d.message ? [E('vr:ResultMessage', d.message, { 'xml:lang': 'en' })] : [])]);
}

function issuerSerial(issuer: string, serialDecimal: string, name: string): XmlElement {
  return E(name, [E('ds:X509IssuerName', issuer), E('ds:X509SerialNumber', serialDecimal)]);
}

function certificateValidity(c: CertificateReport): XmlElement {
  const status: XmlNode[] = [vrResult('vr:CertStatusOK', c.status)];
  if (c.revocation) {
    status.push(E('vr:RevocationInfo', [E('vr:RevocationDate', c.revocation.date.toISOString()), vrResult('vr:RevocationReason', { result: 'invalid', message: c.revocation.reason })]));
  }
  if (c.ocsp) {
    status.push(
      E(
        'vr:RevocationEvidence',
        E('vr:OCSPReference', [E('XAdES:ResponderID', E('XAdES:ByName', c.ocsp.responderId)), E('XAdES:ProducedAt', c.ocsp.producedAt.toISOString())]),
      ),
    );
  }
  const extensions: XmlNode[] = [];
  if (c.admission) {
    extensions.push(
      E('vr:Extensions', [
        E('vr:Extension', [
          E('vr:ExtnId', [E('XAdES:Identifier', 'urn:oid:1.3.36.8.3.3', { Qualifier: 'OIDAsURN' }), E('XAdES:Description', 'Admission (ISIS-MTT/Common PKI): profession OID and registration number')]),
          E('vr:Critical', 'false'),
          E(
            'vr:ExtnValue',
            E('ti:Admission', [
              ...c.admission.professionOids.map((o) => E('ti:ProfessionOid', o)),
              ...c.admission.professionItems.map((o) => E('ti:ProfessionItem', o)),
              ...(c.admission.registrationNumber ? [E('ti:RegistrationNumber', c.admission.registrationNumber)] : []),
            ]),
          ),
          vrResult('vr:ExtensionOK', { result: 'valid' }),
        ]),
      ]),
    );
  }
  return E('vr:CertificateValidity', [
    issuerSerial(c.issuer, c.serialDecimal, 'vr:CertificateIdentifier'),
    E('vr:Subject', c.subject),
    vrResult('vr:ChainingOK', c.chaining),
    vrResult('vr:ValidityPeriodOK', c.validityPeriod),
    vrResult('vr:ExtensionsOK', c.extensions),
    ...(c.includeValue ? [E('vr:CertificateValue', c.der.toString('base64'))] : []),
    E('vr:CertificateContent', [
      E('vr:Version', '3'),
      E('vr:SerialNumber', c.serialDecimal),
      E('vr:SignatureAlgorithm', c.signatureAlgorithmUri),
      E('vr:Issuer', c.issuer),
      E('vr:ValidityPeriod', [E('vr:NotBefore', c.notBefore.toISOString()), E('vr:NotAfter', c.notAfter.toISOString())]),
      E('vr:Subject', c.subject),
      ...extensions,
    ]),
    E('vr:SignatureOK', vrResult('vr:SigMathOK', c.signature)),
    E('vr:CertificateStatus', status),
  ]);
}

function individualReport(s: SignerReport): XmlElement {
  const major = s.result === 'INCONCLUSIVE' ? MAJOR_INSUFFICIENT : MAJOR_SUCCESS;
  const minor = s.result === 'VALID' ? MINOR_VALID : s.result === 'INVALID' ? MINOR_INVALID : MINOR_INDETERMINATE;
  const signed: XmlNode[] = [];
  if (s.signingTime) signed.push(E('XAdES:SigningTime', s.signingTime.toISOString()));
  const detailed = E('vr:DetailedSignatureReport', [
    vrResult('vr:FormatOK', s.format),
    ...(signed.length ? [E('vr:Properties', E('vr:SignedProperties', E('vr:SignedSignatureProperties', signed)))] : []),
    E('vr:SignatureOK', [vrResult('vr:SigMathOK', s.sigMath), E('vr:SignatureAlgorithm', E('vr:Algorithm', s.signatureAlgorithmUri))]),
    E('vr:CertificatePathValidity', [
      vrResult('vr:PathValiditySummary', s.pathSummary),
      issuerSerial(s.signerCertificate?.issuer ?? '', s.signerCertificate?.serialDecimal ?? '0', 'vr:CertificateIdentifier'),
      E('vr:PathValidityDetail', [...s.certificates.map(certificateValidity), vrResult('vr:TrustAnchor', s.trustAnchor)]),
    ]),
  ]);
  return E('vr:IndividualReport', [
    E('vr:SignedObjectIdentifier', E('ds:SignatureValue', s.signatureValue.toString('base64'))),
    E('dss:Result', [E('dss:ResultMajor', major), E('dss:ResultMinor', minor), E('dss:ResultMessage', s.message, { 'xml:lang': 'en' })]),
    E('vr:Details', detailed),
  ]);
}

export function verificationReportElement(r: VerificationReportInput): XmlElement {
  const reports: XmlNode[] = r.signers.map(individualReport);
  if (r.formatError !== undefined) {
    reports.push(
      E('vr:IndividualReport', [
        E('vr:SignedObjectIdentifier', []),
        E('dss:Result', [E('dss:ResultMajor', MAJOR_SUCCESS), E('dss:ResultMinor', MINOR_INVALID), E('dss:ResultMessage', r.formatError, { 'xml:lang': 'en' })]),
      ]),
    );
  }
  return E(
    'vr:VerificationReport',
    [E('dss:VerificationTimeInfo', E('dss:VerificationTime', r.verificationTime.toISOString())), ...reports],
    { 'xmlns:vr': DSS_NS.VR, 'xmlns:ds': DSS_NS.DS, 'xmlns:XAdES': DSS_NS.XADES, 'xmlns:ti': DSS_NS.TI, 'xmlns:dss': DSS_NS.DSS },
  );
}

export function buildVerifyDocumentResponse(o: VerifyDocumentOutput, timestamp: Date): XmlElement {
  return E(
    'SIG:VerifyDocumentResponse',
    [
      statusElement(o.status, timestamp),
      E('SIG:VerificationResult', [E('SIG:HighLevelResult', o.highLevelResult), E('SIG:TimestampType', o.timestampType), E('SIG:Timestamp', o.timestamp.toISOString())]),
      ...(o.report ? [E('SIG:OptionalOutputs', verificationReportElement(o.report))] : []),
    ],
    rootNs(DSS_NS.SIG75),
  );
}
