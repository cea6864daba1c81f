/**
 * A small typed SOAP 1.1 client for a Konnektor (the simulated one or a vendor's): what a client
 * system or the Authentisierungsmodul needs for card-based authentication.
 *
 *   const k = new KonnektorClient({
 *     url: 'https://127.0.0.1:8442',                           // the service directory is <url>/connector.sds
 *     ca: rootPem,                                             // trust anchor: the TI-PKI root
 *     context: { mandantId: 'Praxis-Ebert', clientSystemId: 'PVS-SIM', workplaceId: 'Arbeitsplatz-1' },
 *   });
 *   const [smcb] = await k.getCards({ cardType: 'SMC-B' });
 *   const aut = await k.readCardCertificate(smcb.cardHandle, 'C.AUT');        // DER
 *   await k.verifyPin(smcb.cardHandle, 'PIN.SMC');                           // { result: 'OK' }
 *   const der = await k.externalAuthenticate(smcb.cardHandle, sha256);       // ECDSA-Sig-Value (DER)
 *   // SignatureService 7.5 (QES with the HBA, nonQES with the SMC-B):
 *   const [r] = await k.signDocument(hba.cardHandle, [{ content: bundleXml }]);  // r.signature: DER CMS (CAdES, enveloping, OCSP inside)
 *   await k.signDocument(hba.cardHandle, docs);                              // batch: n documents, one call, one PIN entry
 *   const c = k.withContext({ ...ctx, userId: crypto.randomUUID() });
 *   await c.activateComfortSignature(hba.cardHandle);                        // one PIN entry, then signatures without PIN
 *   await c.getSignatureMode(hba.cardHandle); await c.deactivateComfortSignature(hba.cardHandle);
 *   const v = await k.verifyDocument(r.signature);                          // { highLevelResult: 'VALID', signers: [...] }
 *   await k.close();
 *
 * - Endpoints come from `GET /connector.sds` (ServiceDirectory 3.1: one EndpointTLS/Endpoint per
 *   service version), never from fixed paths; the directory is read once per client.
 * - Envelopes are written by hand per the gematik WSDLs (EventService 7.2, CardService 8.1 or 8.2,
 *   CertificateService 6.0, AuthSignatureService 7.4.1, SignatureService 7.5); answers are parsed with
 *   simulators/lib/soap.ts and xml.ts.
 * - HTTPS with the given trust anchor (the simulated Konnektor offers its brainpool C.AK.AUT to
 *   TLS-1.2 brainpool clients and an RSA certificate of the same CA to all others, so Node's
 *   defaults work); plain HTTP when the Konnektor says so. Optional TLS client certificate.
 * - A SOAP Fault becomes a `KonnektorFault` with the gematik code, ErrorText and Detail;
 *   transport and protocol problems become a `KonnektorClientError`.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { KONNEKTOR_NS as NS } from './konnektor-namespaces';
import { parseSoapEnvelope, readSoapFault, SOAP11_ENVELOPE_NS, SOAP_CONTENT_TYPE, type TelematikTrace } from './soap';
import { escapeAttr, escapeText, NsElement, parseXml, XmlParseError } from './xml';

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/** The call context of every request (ConnectorContext.xsd). */
export interface KonnektorCallContext {
  mandantId: string;
  clientSystemId: string;
  workplaceId: string;
  userId?: string;
}

/** CardType values of CardServiceCommon.xsd. */
export type KonnektorCardType = 'EGK' | 'HBA-qSig' | 'HBA' | 'SMC-B' | 'HSM-B' | 'SMC-KT' | 'KVK' | 'ZOD_2.0' | 'UNKNOWN' | 'HBAx' | 'SM-B';

/** Certificate references of ReadCardCertificate (CertificateService 6.0). */
export type CertRef = 'C.AUT' | 'C.ENC' | 'C.SIG' | 'C.QES';

/** PIN names the Konnektor's CardService knows (PinTyp). */
export type PinType = 'PIN.CH' | 'PIN.home' | 'PIN.QES' | 'PIN.SMC' | (string & {});

export type PinResult = 'OK' | 'ERROR' | 'REJECTED' | 'WASBLOCKED' | 'NOWBLOCKED' | 'TRANSPORT_PIN';
export type PinStatus = 'VERIFIED' | 'TRANSPORT_PIN' | 'EMPTY_PIN' | 'BLOCKED' | 'VERIFIABLE' | 'DISABLED';

/** One card of a GetCards answer (CardInfoType). */
export interface KonnektorCard {
  cardHandle: string;
  cardType: string;
  iccsn?: string;
  ctId: string;
  slotId: number;
  insertTime?: Date;
  cardHolderName?: string;
  kvnr?: string;
  /** YYYY-MM-DD. */
  certificateExpirationDate?: string;
}

export interface GetCardsFilter {
  cardType?: KonnektorCardType;
  ctId?: string;
  /** Needs ctId. */
  slotId?: number;
  /** All card terminals of the Mandant instead of those of the workplace. */
  mandantWide?: boolean;
}

/** One service version of the directory. */
export interface ServiceVersion {
  version: string;
  targetNamespace: string;
  /** EndpointTLS, else Endpoint. */
  endpoint: string;
  wsdl?: string;
}

/** The parsed `connector.sds`. */
export interface ServiceDirectory {
  tlsMandatory: boolean;
  clientAuthMandatory: boolean;
  product: { vendorId?: string; productCode?: string; productName?: string; productTypeVersion?: string };
  /** By service name (EventService, CardService, …). */
  services: Map<string, ServiceVersion[]>;
}

export interface KonnektorClientOptions {
  /**
   * The Konnektor: its base URL (https://host:port, the directory is `/connector.sds` there) or
   * the full URL of its service directory (ending in `.sds`).
   */
  url: string;
  context: KonnektorCallContext;
  /** Trust anchor(s) for HTTPS, PEM (the TI-PKI root). Without: Node's default CAs. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** TLS client certificate and key (PEM) for Konnektors with ClientAutMandatory. */
  clientCertificate?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Further TLS settings of the connection pool, e.g. the TI profile
   * `{ maxVersion: 'TLSv1.2', ecdhCurve: 'brainpoolP256r1:prime256v1' }` (the Konnektor then shows
   * its brainpool C.AK.AUT). Default: Node's TLS defaults.
   */
  tls?: Omit<https.AgentOptions, 'ca' | 'cert' | 'key' | 'keepAlive'>;
  /** Timeout of one HTTP exchange (default 30 s). */
  timeoutMs?: number;
  /** Largest answer accepted (default 16 MiB). */
  maxResponseBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export const ECDSA_SIGNATURE_TYPE = 'urn:bsi:tr:03111:ecdsa';
/** dss:SignatureType of a CAdES (CMS) signature (gemSpec_Kon TAB_KON_583). */
export const CMS_SIGNATURE_TYPE = 'urn:ietf:rfc:5652';

// ---------------------------------------------------------------------------
// SignatureService 7.5 types
// ---------------------------------------------------------------------------

/** One document of a SignDocument call. */
export interface DocumentToSign {
  /** The document bytes (e.g. the KBV bundle as XML). */
  content: Buffer;
  /** Base64Data@MimeType (default `text/plain; charset=utf-8`, as PVS send the e-prescription bundle). */
  mimeType?: string;
  /** Document@ShortText shown by the card terminal: max. 30 characters of [a-zA-Z 0-9_.-äöüÄÖÜß]. */
  shortText?: string;
  /** SignRequest@RequestID (default `Doc<n>`, n counting from 1). */
  requestId?: string;
}

export interface SignDocumentOptions {
  /** Job number of this signature job (default: a fresh one from GetJobNumber). */
  jobNumber?: string;
  /** IncludeRevocationInfo: embed the signer certificate's OCSP response (default true). */
  includeRevocationInfo?: boolean;
  /** IncludeEContent: enveloping signature (default true; false = detached). */
  includeEContent?: boolean;
  /** dss:SignatureType (default CAdES, urn:ietf:rfc:5652). */
  signatureType?: string;
  /** Crypt (default ECC). */
  crypt?: 'ECC' | 'RSA' | 'RSA_ECC';
  /** TvMode (default NONE). */
  tvMode?: 'NONE' | 'UNCONFIRMED' | 'CONFIRMED';
}

/** One SignResponse of a SignDocument answer, in request order. */
export interface SignedDocument {
  requestId: string;
  /** Status/Result: OK, or Warning (then `trace` says why; a document without `signature` was not signed). */
  result: 'OK' | 'Warning' | (string & {});
  /** The DER CMS SignedData (CAdES), absent when this document was not signed. */
  signature?: Buffer;
  /** Base64Signature@Type. */
  signatureType?: string;
  /** GERROR trace of the Status (empty for a plain OK). */
  trace: TelematikTrace[];
}

/** GetSignatureMode answer (SignatureService 7.5). */
export interface SignatureModeInfo {
  comfortSignatureStatus: 'ENABLED' | 'DISABLED' | (string & {});
  comfortSignatureMax?: number;
  /** xs:duration, e.g. PT24H. */
  comfortSignatureTimer?: string;
  /** Present while a session exists for this card and UserId. */
  session?: { signatureMode: 'PIN' | 'COMFORT' | (string & {}); countRemaining: number; timeRemaining: string };
}

export interface VerifyDocumentOptions {
  /** The signed data of a detached signature (SIG:Document). */
  detachedContent?: Buffer;
  /** Ask for the verification report (default true: the `signers` details). */
  returnVerificationReport?: boolean;
  /** Put the certificates into the report (default false). */
  includeCertificateValues?: boolean;
  /** UseVerificationTime/SpecificTime (default: the Konnektor's current time). */
  verificationTime?: Date;
  /** IncludeRevocationInfo (default false). */
  includeRevocationInfo?: boolean;
  /** Base64Signature@Type (default CAdES). */
  signatureType?: string;
}

export type HighLevelResult = 'VALID' | 'INCONCLUSIVE' | 'INVALID';

/** A vr:*OK element: the detail result URN's last part (valid, invalid, indetermined) and its message. */
export interface VerificationDetail {
  result: string;
  message?: string;
}

/** One certificate of the signer's path in the verification report. */
export interface VerifiedCertificate {
  subject: string;
  issuer?: string;
  serialNumber?: string;
  notBefore?: Date;
  notAfter?: Date;
  chaining?: VerificationDetail;
  validityPeriod?: VerificationDetail;
  status?: VerificationDetail;
  /** DER, when the report carries the value (includeCertificateValues). */
  der?: Buffer;
  /** Revocation date, when the certificate is revoked. */
  revokedAt?: Date;
  /** Whether an OCSP response was the revocation evidence. */
  ocsp: boolean;
}

/** One vr:IndividualReport (one signer). */
export interface VerifiedSigner {
  resultMajor: string;
  resultMinor: string;
  message?: string;
  format?: VerificationDetail;
  sigMath?: VerificationDetail;
  signingTime?: Date;
  pathValidity?: VerificationDetail;
  trustAnchor?: VerificationDetail;
  certificates: VerifiedCertificate[];
}

/** VerifyDocument answer. */
export interface VerifyDocumentResult {
  /** VerificationResult/HighLevelResult. */
  highLevelResult: HighLevelResult | (string & {});
  timestampType?: string;
  timestamp?: Date;
  /** Status/Result and its trace. */
  status: { result: string; trace: TelematikTrace[] };
  /** From the verification report (empty without returnVerificationReport). */
  signers: VerifiedSigner[];
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** A SOAP Fault (or a Status/Error in place of a result) from the Konnektor. */
export class KonnektorFault extends Error {
  override name = 'KonnektorFault';
  /** gematik error code of the first trace entry (e.g. 4004), if the fault carried one. */
  readonly code?: number;
  readonly errorText?: string;
  /** Trace/Detail of the first trace entry. */
  readonly detail?: string;

  constructor(
    readonly operation: string,
    readonly faultcode: string,
    readonly faultstring: string,
    readonly trace: TelematikTrace[],
    readonly httpStatus: number,
  ) {
    const first = trace[0];
    super(`${operation}: Konnektor fault ${first ? `${first.code} ` : ''}${first?.errorText || faultstring}${first?.detail ? ` (${first.detail})` : ''}`);
    this.code = first && Number.isFinite(first.code) ? first.code : undefined;
    this.errorText = first?.errorText || undefined;
    this.detail = first?.detail;
  }
}

/** The Konnektor could not be reached or did not answer as the WSDL says. */
export class KonnektorClientError extends Error {
  override name = 'KonnektorClientError';
  constructor(
    message: string,
    /** transport: connection, TLS, timeout; protocol: not the answer the WSDL defines; discovery: connector.sds. */
    readonly kind: 'transport' | 'protocol' | 'discovery',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ---------------------------------------------------------------------------
// Service directory
// ---------------------------------------------------------------------------

/** Parses a ConnectorServices document (ServiceDirectory.xsd 3.1); `base` resolves relative locations. */
export function parseServiceDirectory(xml: string, base?: string): ServiceDirectory {
  let root: NsElement;
  try {
    root = NsElement.of(parseXml(xml));
  } catch (e) {
    throw new KonnektorClientError(`connector.sds is not well-formed XML: ${e instanceof XmlParseError ? e.message : String(e)}`, 'discovery', { cause: e });
  }
  if (!root.is(NS.SDS, 'ConnectorServices')) {
    throw new KonnektorClientError(`connector.sds: the root element is {${root.ns}}${root.local}, expected {${NS.SDS}}ConnectorServices`, 'discovery');
  }
  const flag = (local: string) => root.child(local, NS.SDS)?.text().trim() === 'true';
  const pi = root.child('ProductInformation', NS.PI);
  const piText = (...path: string[]) => {
    let e: NsElement | undefined = pi;
    for (const p of path) e = e?.child(p, NS.PI);
    return e?.text().trim() || undefined;
  };
  const services = new Map<string, ServiceVersion[]>();
  for (const s of root.child('ServiceInformation', NS.SI)?.children('Service', NS.SI) ?? []) {
    const name = s.attr('Name');
    if (!name) continue;
    const versions: ServiceVersion[] = [];
    for (const v of s.child('Versions', NS.SI)?.children('Version', NS.SI) ?? []) {
      const location = v.child('EndpointTLS', NS.SI)?.attr('Location') ?? v.child('Endpoint', NS.SI)?.attr('Location');
      if (!location) continue;
      const resolve = (u: string) => (base ? new URL(u, base).toString() : u);
      const wsdl = v.child('WSDL', NS.SI)?.attr('Location');
      versions.push({
        version: v.attr('Version') ?? '',
        targetNamespace: v.attr('TargetNamespace') ?? '',
        endpoint: resolve(location),
        ...(wsdl ? { wsdl: resolve(wsdl) } : {}),
      });
    }
    services.set(name, [...(services.get(name) ?? []), ...versions]);
  }
  return {
    tlsMandatory: flag('TLSMandatory'),
    clientAuthMandatory: flag('ClientAutMandatory'),
    product: {
      vendorId: piText('ProductIdentification', 'ProductVendorID'),
      productCode: piText('ProductIdentification', 'ProductCode'),
      productName: piText('ProductMiscellaneous', 'ProductName'),
      productTypeVersion: piText('ProductTypeInformation', 'ProductTypeVersion'),
    },
    services,
  };
}

/** The service versions this client speaks, most preferred first. */
const SPOKEN: Record<'event' | 'card' | 'certificate' | 'auth' | 'signature', { service: string; namespaces: string[] }> = {
  event: { service: 'EventService', namespaces: [NS.EVT] },
  signature: { service: 'SignatureService', namespaces: [NS.SIG75] },
  card: { service: 'CardService', namespaces: [NS.CARD, NS.CARD82] },
  certificate: { service: 'CertificateService', namespaces: [NS.CERT] },
  auth: { service: 'AuthSignatureService', namespaces: [NS.SIG74] },
};
type ServiceKey = keyof typeof SPOKEN;

interface Endpoint {
  url: string;
  /** Namespace of the service version (request elements and SOAPAction prefix). */
  ns: string;
}

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

export class KonnektorClient {
  readonly context: Readonly<KonnektorCallContext>;
  private readonly sdsUrl: string;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private directory: Promise<ServiceDirectory> | undefined;
  private closed = false;
  /** Shared with clients made by withContext(); only the owner destroys the agent. */
  private readonly ownsAgent: boolean;

  constructor(
    private readonly opts: KonnektorClientOptions,
    shared?: { agent: http.Agent; directory?: Promise<ServiceDirectory> },
  ) {
    if (!opts || typeof opts.url !== 'string') throw new TypeError('KonnektorClient: url is required (https://host:port of the Konnektor)');
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new TypeError(`KonnektorClient: url "${opts.url}" is not an absolute URL`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError(`KonnektorClient: url must be http(s), got ${u.protocol}`);
    this.sdsUrl = u.pathname.endsWith('.sds') ? u.toString() : new URL('/connector.sds', u).toString();
    this.context = checkContext(opts.context);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.ownsAgent = !shared;
    this.agent =
      shared?.agent ??
      (u.protocol === 'https:'
        ? new https.Agent({
            ...(opts.tls ?? {}),
            keepAlive: true,
            ...(opts.ca ? { ca: opts.ca } : {}),
            ...(opts.clientCertificate ? { cert: opts.clientCertificate.cert, key: opts.clientCertificate.key } : {}),
          })
        : new http.Agent({ keepAlive: true }));
    this.directory = shared?.directory;
  }

  /** A client for another call context on the same connection pool and directory (close() the original). */
  withContext(context: KonnektorCallContext): KonnektorClient {
    return new KonnektorClient({ ...this.opts, context }, { agent: this.agent, directory: this.directory });
  }

  /** The Konnektor's service directory (GET connector.sds), read once. */
  discover(): Promise<ServiceDirectory> {
    if (!this.directory) {
      const loading = this.fetch('GET', this.sdsUrl, undefined, {}).then(({ status, text }) => {
        if (status !== 200) throw new KonnektorClientError(`GET ${this.sdsUrl} answered HTTP ${status}`, 'discovery');
        return parseServiceDirectory(text, this.sdsUrl);
      });
      this.directory = loading;
      loading.catch(() => {
        if (this.directory === loading) this.directory = undefined;
      });
    }
    return this.directory;
  }

  private async endpoint(key: ServiceKey): Promise<Endpoint> {
    const dir = await this.discover();
    const { service, namespaces } = SPOKEN[key];
    const versions = dir.services.get(service) ?? [];
    for (const ns of namespaces) {
      const v = versions.find((x) => x.targetNamespace === ns);
      if (v) return { url: v.endpoint, ns };
    }
    const offered = versions.map((v) => `${v.version} (${v.targetNamespace})`).join(', ') || 'none';
    throw new KonnektorClientError(`connector.sds at ${this.sdsUrl} lists no ${service} version this client speaks (${namespaces.join(' or ')}); offered: ${offered}`, 'discovery');
  }

  // -------------------------------------------------------------------------
  // Operations
  // -------------------------------------------------------------------------

  /** EventService GetCards: the cards the call context may see, optionally filtered. */
  async getCards(filter: GetCardsFilter = {}): Promise<KonnektorCard[]> {
    if (filter.slotId !== undefined && (!Number.isInteger(filter.slotId) || filter.slotId < 1)) throw new RangeError(`GetCards: slotId must be a positive integer, got ${filter.slotId}`);
    if (filter.slotId !== undefined && filter.ctId === undefined) throw new TypeError('GetCards: slotId needs ctId');
    const ep = await this.endpoint('event');
    const body =
      `<EVT:GetCards xmlns:EVT="${ep.ns}" mandant-wide="${filter.mandantWide ? 'true' : 'false'}">${this.contextXml()}` +
      (filter.ctId !== undefined ? `<CARDCMN:CtId>${escapeText(filter.ctId)}</CARDCMN:CtId>` : '') +
      (filter.slotId !== undefined ? `<CARDCMN:SlotId>${filter.slotId}</CARDCMN:SlotId>` : '') +
      (filter.cardType !== undefined ? `<CARDCMN:CardType>${escapeText(filter.cardType)}</CARDCMN:CardType>` : '') +
      '</EVT:GetCards>';
    const rsp = await this.call(ep, 'GetCards', body);
    // CARD:Cards is in the CardService namespace the EventService schema imports (8.1).
    const cards = rsp.child('Cards')?.children('Card') ?? [];
    return cards.map((c) => {
      const t = (local: string) => c.child(local)?.text().trim() || undefined;
      const insert = t('InsertTime');
      return {
        cardHandle: t('CardHandle') ?? '',
        cardType: t('CardType') ?? 'UNKNOWN',
        ...(t('Iccsn') ? { iccsn: t('Iccsn') } : {}),
        ctId: t('CtId') ?? '',
        slotId: Number(t('SlotId') ?? 0),
        ...(insert && !Number.isNaN(Date.parse(insert)) ? { insertTime: new Date(insert) } : {}),
        ...(t('CardHolderName') ? { cardHolderName: t('CardHolderName') } : {}),
        ...(t('Kvnr') ? { kvnr: t('Kvnr') } : {}),
        ...(t('CertificateExpirationDate') ? { certificateExpirationDate: t('CertificateExpirationDate') } : {}),
      };
    });
  }

  /**
   * CertificateService ReadCardCertificate: the certificates `refs` of the card, DER. A reference
   * the card has no certificate for comes back without `der`.
   */
  async readCardCertificates(cardHandle: string, refs: CertRef[], opts: { crypt?: 'ECC' | 'RSA' } = {}): Promise<Array<{ ref: CertRef; der?: Buffer }>> {
    checkHandle(cardHandle, 'ReadCardCertificate');
    if (!Array.isArray(refs) || refs.length === 0) throw new TypeError('ReadCardCertificate: give at least one certificate reference (C.AUT, C.ENC, C.SIG, C.QES)');
    for (const r of refs) if (!['C.AUT', 'C.ENC', 'C.SIG', 'C.QES'].includes(r)) throw new TypeError(`ReadCardCertificate: unknown certificate reference "${r}"`);
    const ep = await this.endpoint('certificate');
    const body =
      `<CERT:ReadCardCertificate xmlns:CERT="${ep.ns}"><CONN:CardHandle>${escapeText(cardHandle)}</CONN:CardHandle>${this.contextXml()}` +
      `<CERT:CertRefList>${refs.map((r) => `<CERT:CertRef>${r}</CERT:CertRef>`).join('')}</CERT:CertRefList>` +
      (opts.crypt ? `<CERT:Crypt>${opts.crypt}</CERT:Crypt>` : '') +
      '</CERT:ReadCardCertificate>';
    const rsp = await this.call(ep, 'ReadCardCertificate', body);
    const infos = rsp.child('X509DataInfoList', NS.CERTCMN)?.children('X509DataInfo', NS.CERTCMN) ?? [];
    return refs.map((ref) => {
      const info = infos.find((i) => i.child('CertRef', NS.CERTCMN)?.text().trim() === ref);
      const b64 = info?.child('X509Data', NS.CERTCMN)?.child('X509Certificate', NS.CERTCMN)?.text().replace(/\s+/g, '');
      return b64 ? { ref, der: Buffer.from(b64, 'base64') } : { ref };
    });
  }

  /** One certificate of the card (DER), or undefined when the card has none for `ref`. */
  async readCardCertificate(cardHandle: string, ref: CertRef, opts: { crypt?: 'ECC' | 'RSA' } = {}): Promise<Buffer | undefined> {
    return (await this.readCardCertificates(cardHandle, [ref], opts))[0].der;
  }

  /**
   * AuthSignatureService ExternalAuthenticate: the card's AUT key signs `hash` (1..64 bytes, for
   * the IDP a SHA-256 digest). Answers the signature as the Konnektor returns it — for
   * `urn:bsi:tr:03111:ecdsa` a DER ECDSA-Sig-Value.
   */
  async externalAuthenticate(cardHandle: string, hash: Buffer, opts: { signatureType?: string } = {}): Promise<Buffer> {
    checkHandle(cardHandle, 'ExternalAuthenticate');
    if (!Buffer.isBuffer(hash)) throw new TypeError('ExternalAuthenticate: the hash must be a Buffer');
    if (hash.length === 0 || hash.length > 64) throw new RangeError(`ExternalAuthenticate: the hash must have 1..64 bytes, got ${hash.length}`);
    const type = opts.signatureType ?? ECDSA_SIGNATURE_TYPE;
    const ep = await this.endpoint('auth');
    const body =
      `<SIG:ExternalAuthenticate xmlns:SIG="${ep.ns}" xmlns:dss="${NS.DSS}"><CONN:CardHandle>${escapeText(cardHandle)}</CONN:CardHandle>${this.contextXml()}` +
      `<SIG:OptionalInputs><dss:SignatureType>${escapeText(type)}</dss:SignatureType></SIG:OptionalInputs>` +
      `<SIG:BinaryString><dss:Base64Data MimeType="application/octet-stream">${hash.toString('base64')}</dss:Base64Data></SIG:BinaryString></SIG:ExternalAuthenticate>`;
    const rsp = await this.call(ep, 'ExternalAuthenticate', body);
    const b64 = rsp.child('SignatureObject', NS.DSS)?.child('Base64Signature', NS.DSS)?.text().replace(/\s+/g, '');
    if (!b64) {
      throwStatusError(rsp, 'ExternalAuthenticate');
      throw new KonnektorClientError('ExternalAuthenticate: the answer holds no dss:SignatureObject/dss:Base64Signature', 'protocol');
    }
    return Buffer.from(b64, 'base64');
  }

  /** CardService VerifyPin: the PIN is entered at the card terminal (PIN pad); the answer says how it went. */
  async verifyPin(cardHandle: string, pinType: PinType): Promise<{ result: PinResult; leftTries?: number }> {
    const rsp = await this.pinCall('VerifyPin', cardHandle, pinType);
    const result = rsp.child('PinResult', NS.CARDCMN)?.text().trim();
    if (!result) throw new KonnektorClientError('VerifyPin: the answer holds no PinResult', 'protocol');
    const left = rsp.child('LeftTries', NS.CARDCMN)?.text().trim();
    return { result: result as PinResult, ...(left ? { leftTries: Number(left) } : {}) };
  }

  /** CardService GetPinStatus. */
  async getPinStatus(cardHandle: string, pinType: PinType): Promise<{ status: PinStatus; leftTries?: number }> {
    const rsp = await this.pinCall('GetPinStatus', cardHandle, pinType);
    const status = rsp.child('PinStatus')?.text().trim();
    if (!status) throw new KonnektorClientError('GetPinStatus: the answer holds no PinStatus', 'protocol');
    const left = rsp.child('LeftTries')?.text().trim();
    return { status: status as PinStatus, ...(left ? { leftTries: Number(left) } : {}) };
  }

  private async pinCall(operation: string, cardHandle: string, pinType: PinType): Promise<NsElement> {
    checkHandle(cardHandle, operation);
    if (typeof pinType !== 'string' || !pinType) throw new TypeError(`${operation}: pinType is required (PIN.SMC, PIN.CH, …)`);
    const ep = await this.endpoint('card');
    const body =
      `<CARD:${operation} xmlns:CARD="${ep.ns}">${this.contextXml()}<CONN:CardHandle>${escapeText(cardHandle)}</CONN:CardHandle>` +
      `<CARDCMN:PinTyp>${escapeText(pinType)}</CARDCMN:PinTyp></CARD:${operation}>`;
    return this.call(ep, operation, body);
  }

  // -------------------------------------------------------------------------
  // SignatureService 7.5
  // -------------------------------------------------------------------------

  /** SignatureService GetJobNumber: a job number `[A-Z]{3}-[0-9]{3}` for the next SignDocument. */
  async getJobNumber(): Promise<string> {
    const ep = await this.endpoint('signature');
    const rsp = await this.call(ep, 'GetJobNumber', `<SIG:GetJobNumber xmlns:SIG="${ep.ns}">${this.contextXml()}</SIG:GetJobNumber>`);
    const job = rsp.child('JobNumber', ep.ns)?.text().trim();
    if (!job) throw new KonnektorClientError('GetJobNumber: the answer holds no JobNumber', 'protocol');
    return job;
  }

  /**
   * SignatureService SignDocument: the card (HBA: QES with PIN.QES, SMC-B: nonQES) signs all
   * `documents` in one job — a batch of n documents is one call and, without a comfort session,
   * one PIN entry. Defaults: CAdES enveloping, IncludeRevocationInfo true, a fresh job number.
   * Answers one entry per document in request order; a Fault (nothing signed) is a KonnektorFault.
   */
  async signDocument(cardHandle: string, documents: DocumentToSign[], opts: SignDocumentOptions = {}): Promise<SignedDocument[]> {
    checkHandle(cardHandle, 'SignDocument');
    if (!Array.isArray(documents) || documents.length === 0) throw new TypeError('SignDocument: give at least one document');
    const ids = documents.map((d, i) => d?.requestId ?? `Doc${i + 1}`);
    for (const [i, d] of documents.entries()) {
      if (!d || !Buffer.isBuffer(d.content)) throw new TypeError(`SignDocument: document ${i + 1} has no Buffer content`);
      if (d.shortText !== undefined && (d.shortText.length > 30 || !/^[a-zA-Z 0-9_.\-äöüÄÖÜß]*$/.test(d.shortText))) {
        throw new TypeError(`SignDocument: ShortText "${d.shortText}" of document ${i + 1} exceeds 30 characters of [a-zA-Z 0-9_.-äöüÄÖÜß]`);
      }
    }
    if (new Set(ids).size !== ids.length) throw new TypeError('SignDocument: the RequestIDs must be unique');
    if (opts.jobNumber !== undefined && !/^[A-Z]{3}-[0-9]{3}$/.test(opts.jobNumber)) throw new TypeError(`SignDocument: job number "${opts.jobNumber}" does not match [A-Z]{3}-[0-9]{3}`);
    const jobNumber = opts.jobNumber ?? (await this.getJobNumber());
    const ep = await this.endpoint('signature');
    const type = opts.signatureType ?? CMS_SIGNATURE_TYPE;
    const requests = documents
      .map(
        (d, i) =>
          `<SIG:SignRequest RequestID="${escapeAttr(ids[i])}"><SIG:OptionalInputs><dss:SignatureType>${escapeText(type)}</dss:SignatureType>` +
          `<SIG:IncludeEContent>${opts.includeEContent ?? true}</SIG:IncludeEContent></SIG:OptionalInputs>` +
          `<SIG:Document${d.shortText !== undefined ? ` ShortText="${escapeAttr(d.shortText)}"` : ''}>` +
          `<dss:Base64Data MimeType="${escapeAttr(d.mimeType ?? 'text/plain; charset=utf-8')}">${d.content.toString('base64')}</dss:Base64Data></SIG:Document>` +
          `<SIG:IncludeRevocationInfo>${opts.includeRevocationInfo ?? true}</SIG:IncludeRevocationInfo></SIG:SignRequest>`,
      )
      .join('');
    const body =
      `<SIG:SignDocument xmlns:SIG="${ep.ns}" xmlns:dss="${NS.DSS}"><CONN:CardHandle>${escapeText(cardHandle)}</CONN:CardHandle>` +
      `<SIG:Crypt>${opts.crypt ?? 'ECC'}</SIG:Crypt>${this.contextXml()}<SIG:TvMode>${opts.tvMode ?? 'NONE'}</SIG:TvMode>` +
      `<SIG:JobNumber>${escapeText(jobNumber)}</SIG:JobNumber>${requests}</SIG:SignDocument>`;
    const rsp = await this.call(ep, 'SignDocument', body);
    const answers = rsp.children('SignResponse', ep.ns);
    return ids.map((requestId) => {
      const a = answers.find((x) => x.attr('RequestID') === requestId);
      if (!a) throw new KonnektorClientError(`SignDocument: the answer holds no SignResponse for RequestID ${requestId}`, 'protocol');
      const status = readStatus(a);
      const sig = a.child('SignatureObject', NS.DSS)?.child('Base64Signature', NS.DSS);
      const b64 = sig?.text().replace(/\s+/g, '');
      return {
        requestId,
        result: status.result,
        ...(b64 ? { signature: Buffer.from(b64, 'base64') } : {}),
        ...(sig?.attr('Type') ? { signatureType: sig.attr('Type') } : {}),
        trace: status.trace,
      };
    });
  }

  /**
   * SignatureService ActivateComfortSignature: one PIN.QES entry opens a comfort session of the
   * HBA for the call context's UserId (required); later SignDocument calls with that UserId sign
   * without PIN within the Konnektor's limits (count, time).
   */
  async activateComfortSignature(cardHandle: string): Promise<{ signatureMode: string }> {
    checkHandle(cardHandle, 'ActivateComfortSignature');
    if (!this.context.userId) throw new TypeError('ActivateComfortSignature: the call context needs a UserId (use withContext({ ..., userId }))');
    const ep = await this.endpoint('signature');
    const rsp = await this.call(
      ep,
      'ActivateComfortSignature',
      `<SIG:ActivateComfortSignature xmlns:SIG="${ep.ns}"><CONN:CardHandle>${escapeText(cardHandle)}</CONN:CardHandle>${this.contextXml()}</SIG:ActivateComfortSignature>`,
    );
    throwStatusError(rsp, 'ActivateComfortSignature');
    return { signatureMode: rsp.child('SignatureMode', ep.ns)?.text().trim() ?? '' };
  }

  /** SignatureService DeactivateComfortSignature: ends the comfort sessions of the cards (no call context). */
  async deactivateComfortSignature(cardHandles: string | string[]): Promise<void> {
    const handles = Array.isArray(cardHandles) ? cardHandles : [cardHandles];
    if (!handles.length) throw new TypeError('DeactivateComfortSignature: give at least one card handle');
    for (const h of handles) checkHandle(h, 'DeactivateComfortSignature');
    const ep = await this.endpoint('signature');
    const rsp = await this.call(
      ep,
      'DeactivateComfortSignature',
      `<SIG:DeactivateComfortSignature xmlns:SIG="${ep.ns}">${handles.map((h) => `<CONN:CardHandle>${escapeText(h)}</CONN:CardHandle>`).join('')}</SIG:DeactivateComfortSignature>`,
    );
    throwStatusError(rsp, 'DeactivateComfortSignature');
  }

  /** SignatureService GetSignatureMode: comfort signature configuration and the session of this card and UserId. */
  async getSignatureMode(cardHandle: string): Promise<SignatureModeInfo> {
    checkHandle(cardHandle, 'GetSignatureMode');
    const ep = await this.endpoint('signature');
    const rsp = await this.call(
      ep,
      'GetSignatureMode',
      `<SIG:GetSignatureMode xmlns:SIG="${ep.ns}"><CONN:CardHandle>${escapeText(cardHandle)}</CONN:CardHandle>${this.contextXml()}</SIG:GetSignatureMode>`,
    );
    throwStatusError(rsp, 'GetSignatureMode');
    const t = (e: NsElement | undefined, local: string) => e?.child(local, ep.ns)?.text().trim() || undefined;
    const status = t(rsp, 'ComfortSignatureStatus');
    if (!status) throw new KonnektorClientError('GetSignatureMode: the answer holds no ComfortSignatureStatus', 'protocol');
    const max = t(rsp, 'ComfortSignatureMax');
    const timer = t(rsp, 'ComfortSignatureTimer');
    const si = rsp.child('SessionInfo', ep.ns);
    return {
      comfortSignatureStatus: status,
      ...(max !== undefined ? { comfortSignatureMax: Number(max) } : {}),
      ...(timer !== undefined ? { comfortSignatureTimer: timer } : {}),
      ...(si
        ? { session: { signatureMode: t(si, 'SignatureMode') ?? '', countRemaining: Number(t(si, 'CountRemaining') ?? 0), timeRemaining: t(si, 'TimeRemaining') ?? '' } }
        : {}),
    };
  }

  /**
   * SignatureService VerifyDocument for a CAdES signature (enveloping; detached with
   * `detachedContent`): the HighLevelResult and, from the verification report (asked for by
   * default), per signer the result, signing time and the checked certificate path.
   */
  async verifyDocument(signature: Buffer, opts: VerifyDocumentOptions = {}): Promise<VerifyDocumentResult> {
    if (!Buffer.isBuffer(signature) || signature.length === 0) throw new TypeError('VerifyDocument: the signature must be a non-empty Buffer');
    if (opts.detachedContent !== undefined && !Buffer.isBuffer(opts.detachedContent)) throw new TypeError('VerifyDocument: detachedContent must be a Buffer');
    if (opts.verificationTime !== undefined && Number.isNaN(opts.verificationTime?.getTime?.())) throw new TypeError('VerifyDocument: verificationTime is not a valid Date');
    const ep = await this.endpoint('signature');
    const wantReport = opts.returnVerificationReport ?? true;
    const optional =
      (opts.verificationTime ? `<SIG:UseVerificationTime><dss:SpecificTime>${opts.verificationTime.toISOString()}</dss:SpecificTime></SIG:UseVerificationTime>` : '') +
      (wantReport
        ? `<VR:ReturnVerificationReport><VR:IncludeVerifier>false</VR:IncludeVerifier><VR:IncludeCertificateValues>${opts.includeCertificateValues ?? false}</VR:IncludeCertificateValues>` +
          '<VR:IncludeRevocationValues>false</VR:IncludeRevocationValues><VR:ExpandBinaryValues>false</VR:ExpandBinaryValues></VR:ReturnVerificationReport>'
        : '');
    const body =
      `<SIG:VerifyDocument xmlns:SIG="${ep.ns}" xmlns:dss="${NS.DSS}" xmlns:VR="${NS.VR}">${this.contextXml()}<SIG:TvMode>NONE</SIG:TvMode>` +
      (optional ? `<SIG:OptionalInputs>${optional}</SIG:OptionalInputs>` : '') +
      (opts.detachedContent ? `<SIG:Document><dss:Base64Data MimeType="application/octet-stream">${opts.detachedContent.toString('base64')}</dss:Base64Data></SIG:Document>` : '') +
      `<dss:SignatureObject><dss:Base64Signature Type="${escapeAttr(opts.signatureType ?? CMS_SIGNATURE_TYPE)}">${signature.toString('base64')}</dss:Base64Signature></dss:SignatureObject>` +
      `<SIG:IncludeRevocationInfo>${opts.includeRevocationInfo ?? false}</SIG:IncludeRevocationInfo></SIG:VerifyDocument>`;
    const rsp = await this.call(ep, 'VerifyDocument', body);
    const vr = rsp.child('VerificationResult', ep.ns);
    const high = vr?.child('HighLevelResult', ep.ns)?.text().trim();
    if (!high) {
      throwStatusError(rsp, 'VerifyDocument');
      throw new KonnektorClientError('VerifyDocument: the answer holds no VerificationResult/HighLevelResult', 'protocol');
    }
    const ts = vr?.child('Timestamp', ep.ns)?.text().trim();
    const report = rsp.child('OptionalOutputs', ep.ns)?.child('VerificationReport', NS.VR);
    return {
      highLevelResult: high,
      ...(vr?.child('TimestampType', ep.ns) ? { timestampType: vr.child('TimestampType', ep.ns)?.text().trim() } : {}),
      ...(ts && !Number.isNaN(Date.parse(ts)) ? { timestamp: new Date(ts) } : {}),
      status: readStatus(rsp),
      signers: report ? report.children('IndividualReport', NS.VR).map(readIndividualReport) : [],
    };
  }

  /** Ends the kept-alive connections (idempotent). Clients from withContext() share them. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsAgent) this.agent.destroy();
  }

  // -------------------------------------------------------------------------
  // SOAP over HTTP(S)
  // -------------------------------------------------------------------------

  private contextXml(): string {
    const c = this.context;
    return (
      `<CCTX:Context><CONN:MandantId>${escapeText(c.mandantId)}</CONN:MandantId><CONN:ClientSystemId>${escapeText(c.clientSystemId)}</CONN:ClientSystemId>` +
      `<CONN:WorkplaceId>${escapeText(c.workplaceId)}</CONN:WorkplaceId>${c.userId !== undefined ? `<CONN:UserId>${escapeText(c.userId)}</CONN:UserId>` : ''}</CCTX:Context>`
    );
  }

  /** POSTs one request; answers the response element (checked to be `<operation>Response`). */
  private async call(ep: Endpoint, operation: string, bodyXml: string): Promise<NsElement> {
    const envelope =
      `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP11_ENVELOPE_NS}" xmlns:CONN="${NS.CONN}" ` +
      `xmlns:CCTX="${NS.CCTX}" xmlns:CARDCMN="${NS.CARDCMN}"><soapenv:Body>${bodyXml}</soapenv:Body></soapenv:Envelope>`;
    const { status, text } = await this.fetch('POST', ep.url, envelope, { 'content-type': SOAP_CONTENT_TYPE, soapaction: `"${ep.ns}#${operation}"` });
    let body: NsElement;
    try {
      body = parseSoapEnvelope(text).body;
    } catch (e) {
      throw new KonnektorClientError(`${operation}: HTTP ${status}, the answer is no SOAP 1.1 envelope (${(e as Error).message}): ${text.slice(0, 200)}`, 'protocol', { cause: e });
    }
    if (body.is(SOAP11_ENVELOPE_NS, 'Fault')) {
      const f = readSoapFault(text);
      throw new KonnektorFault(operation, f?.faultcode ?? '', f?.faultstring ?? '', f?.trace ?? [], status);
    }
    if (status !== 200) throw new KonnektorClientError(`${operation}: HTTP ${status} without a SOAP Fault`, 'protocol');
    if (!body.is(ep.ns, `${operation}Response`)) {
      throw new KonnektorClientError(`${operation}: expected {${ep.ns}}${operation}Response, got {${body.ns}}${body.local}`, 'protocol');
    }
    return body;
  }

  private fetch(method: 'GET' | 'POST', url: string, body: string | undefined, headers: Record<string, string>): Promise<{ status: number; text: string }> {
    if (this.closed) return Promise.reject(new KonnektorClientError(`the Konnektor client for ${this.sdsUrl} is closed`, 'transport'));
    return new Promise((resolve, reject) => {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        reject(new KonnektorClientError(`not a URL: ${url}`, 'discovery'));
        return;
      }
      const isHttps = u.protocol === 'https:';
      if (isHttps !== this.agent instanceof https.Agent) {
        reject(new KonnektorClientError(`${url}: the Konnektor's directory points to ${u.protocol.slice(0, -1)}, but the client was set up for ${isHttps ? 'http' : 'https'} (${this.sdsUrl})`, 'discovery'));
        return;
      }
      const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
      const req = (isHttps ? https : http).request(
        u,
        { method, agent: this.agent, headers: { ...headers, ...(payload ? { 'content-length': String(payload.length) } : {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > this.maxResponseBytes) {
              req.destroy(new KonnektorClientError(`${method} ${url}: answer larger than ${this.maxResponseBytes} bytes`, 'protocol'));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (e) => reject(transportError(method, url, e)));
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new KonnektorClientError(`${method} ${url}: no answer within ${this.timeoutMs} ms`, 'transport')));
      req.on('error', (e) => reject(transportError(method, url, e)));
      req.end(payload);
    });
  }
}

function transportError(method: string, url: string, e: unknown): KonnektorClientError {
  if (e instanceof KonnektorClientError) return e;
  return new KonnektorClientError(`${method} ${url}: ${(e as Error)?.message ?? String(e)}`, 'transport', { cause: e });
}

/** A Status with Result Warning/Error and a GERROR trace, in place of the expected result. */
function throwStatusError(rsp: NsElement, operation: string): void {
  const err = rsp.child('Status', NS.CONN)?.child('Error', NS.GERROR);
  if (!err) return;
  const trace = err.children('Trace', NS.GERROR).map((t) => ({
    code: Number(t.child('Code', NS.GERROR)?.text()),
    errorText: t.child('ErrorText', NS.GERROR)?.text() ?? '',
    errorType: t.child('ErrorType', NS.GERROR)?.text() ?? '',
    severity: t.child('Severity', NS.GERROR)?.text() ?? '',
    detail: t.child('Detail', NS.GERROR)?.text(),
  }));
  const result = rsp.child('Status', NS.CONN)?.child('Result', NS.CONN)?.text() ?? '';
  throw new KonnektorFault(operation, `Status ${result}`, trace[0]?.errorText ?? result, trace, 200);
}

function checkHandle(cardHandle: string, operation: string): void {
  if (typeof cardHandle !== 'string' || !cardHandle.trim()) throw new TypeError(`${operation}: a card handle (from GetCards) is required`);
}

function checkContext(c: KonnektorCallContext): Readonly<KonnektorCallContext> {
  if (!c || typeof c !== 'object') throw new TypeError('KonnektorClient: context {mandantId, clientSystemId, workplaceId, userId?} is required');
  for (const k of ['mandantId', 'clientSystemId', 'workplaceId'] as const) {
    if (typeof c[k] !== 'string') throw new TypeError(`KonnektorClient: context.${k} must be a string`);
  }
  if (c.userId !== undefined && typeof c.userId !== 'string') throw new TypeError('KonnektorClient: context.userId must be a string');
  return Object.freeze({ ...c });
}


/** CONN:Status of an answer element: Result and the GERROR trace. */
function readStatus(e: NsElement): { result: string; trace: TelematikTrace[] } {
  const st = e.child('Status', NS.CONN);
  const err = st?.child('Error', NS.GERROR);
  const trace = (err?.children('Trace', NS.GERROR) ?? []).map((t) => ({
    code: Number(t.child('Code', NS.GERROR)?.text()),
    errorText: t.child('ErrorText', NS.GERROR)?.text() ?? '',
    errorType: t.child('ErrorType', NS.GERROR)?.text() ?? '',
    severity: t.child('Severity', NS.GERROR)?.text() ?? '',
    detail: t.child('Detail', NS.GERROR)?.text(),
  }));
  return { result: st?.child('Result', NS.CONN)?.text().trim() ?? '', trace };
}

/** A vr:*OK element (ResultMajor URN → its last segment, ResultMessage). */
function readDetail(e: NsElement | undefined): VerificationDetail | undefined {
  if (!e) return undefined;
  const major = e.child('ResultMajor', NS.VR)?.text().trim() ?? '';
  const message = e.child('ResultMessage', NS.VR)?.text();
  return { result: major.split(':').pop() ?? major, ...(message ? { message } : {}) };
}

function dateOf(s: string | undefined): Date | undefined {
  return s && !Number.isNaN(Date.parse(s)) ? new Date(s) : undefined;
}

function readCertificateValidity(c: NsElement): VerifiedCertificate {
  const content = c.child('CertificateContent', NS.VR);
  const period = content?.child('ValidityPeriod', NS.VR);
  const status = c.child('CertificateStatus', NS.VR);
  const value = c.child('CertificateValue', NS.VR)?.text().replace(/\s+/g, '');
  const revokedAt = dateOf(status?.child('RevocationInfo', NS.VR)?.child('RevocationDate', NS.VR)?.text().trim());
  return {
    subject: c.child('Subject', NS.VR)?.text() ?? content?.child('Subject', NS.VR)?.text() ?? '',
    ...(content?.child('Issuer', NS.VR) ? { issuer: content.child('Issuer', NS.VR)?.text() } : {}),
    ...(content?.child('SerialNumber', NS.VR) ? { serialNumber: content.child('SerialNumber', NS.VR)?.text().trim() } : {}),
    ...(dateOf(period?.child('NotBefore', NS.VR)?.text().trim()) ? { notBefore: dateOf(period?.child('NotBefore', NS.VR)?.text().trim()) } : {}),
    ...(dateOf(period?.child('NotAfter', NS.VR)?.text().trim()) ? { notAfter: dateOf(period?.child('NotAfter', NS.VR)?.text().trim()) } : {}),
    chaining: readDetail(c.child('ChainingOK', NS.VR)),
    validityPeriod: readDetail(c.child('ValidityPeriodOK', NS.VR)),
    status: readDetail(status?.child('CertStatusOK', NS.VR)),
    ...(value ? { der: Buffer.from(value, 'base64') } : {}),
    ...(revokedAt ? { revokedAt } : {}),
    ocsp: !!status?.child('RevocationEvidence', NS.VR)?.child('OCSPReference', NS.VR),
  };
}

function readIndividualReport(r: NsElement): VerifiedSigner {
  const result = r.child('Result', NS.DSS);
  const detailed = r.child('Details', NS.VR)?.child('DetailedSignatureReport', NS.VR);
  const path = detailed?.child('CertificatePathValidity', NS.VR);
  const signingTime = detailed?.child('Properties', NS.VR)?.child('SignedProperties', NS.VR)?.child('SignedSignatureProperties', NS.VR)?.child('SigningTime')?.text().trim();
  const message = result?.child('ResultMessage', NS.DSS)?.text();
  return {
    resultMajor: result?.child('ResultMajor', NS.DSS)?.text().trim() ?? '',
    resultMinor: result?.child('ResultMinor', NS.DSS)?.text().trim() ?? '',
    ...(message ? { message } : {}),
    format: readDetail(detailed?.child('FormatOK', NS.VR)),
    sigMath: readDetail(detailed?.child('SignatureOK', NS.VR)?.child('SigMathOK', NS.VR)),
    ...(dateOf(signingTime) ? { signingTime: dateOf(signingTime) } : {}),
    pathValidity: readDetail(path?.child('PathValiditySummary', NS.VR)),
    trustAnchor: readDetail(path?.child('PathValidityDetail', NS.VR)?.child('TrustAnchor', NS.VR)),
    certificates: (path?.child('PathValidityDetail', NS.VR)?.children('CertificateValidity', NS.VR) ?? []).map(readCertificateValidity),
  };
}
