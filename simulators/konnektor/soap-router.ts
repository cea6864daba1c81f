/**
 * Dispatches SOAP requests to the Konnektor's operation handlers.
 *
 *   router.registerOperation({
 *     path: '/ws/EventService',
 *     soapAction: 'http://ws.gematik.de/conn/EventService/v7.2#GetCards',
 *     requestElement: { ns: NS.EVT, local: 'GetCards' },
 *     handler: async (req, k) => el('EVT:GetCardsResponse', …),
 *   });
 *   const routes = router.routes();                 // Route[] for startHttpServer
 *
 * For each request the router: parses the envelope strictly (lib/soap.ts), finds the operation
 * by the body element's expanded name on that path, checks the SOAPAction header when one is
 * sent, parses and checks the CCTX:Context child against the information model, calls the
 * handler, wraps its answer in an envelope, turns every error into a SOAP Fault with a gematik
 * code, and records the call in the admin call log.
 */
import type * as tls from 'node:tls';
import { HttpError, type RequestContext, type Route } from '../lib/http';
import { isSoapFault, konnektorFault, parseSoapEnvelope, soapActionOf, soapEnvelope, soapFaultEnvelope, SOAP_CONTENT_TYPE, type SoapFault } from '../lib/soap';
import { KONNEKTOR_NS } from '../lib/konnektor-namespaces';
import { el, type NsElement, type XmlElement } from '../lib/xml';
import { CCTX_NS, certificateCommonName, parseCallContext, type CallContext, type KonnektorContext, type TransportInfo } from './context';

/** Namespaces of the Konnektor interfaces (as the WSDL/XSD files define them). */
/** The namespaces of the Konnektor interfaces (one table: simulators/lib/konnektor-namespaces.ts). */
export const NS = KONNEKTOR_NS;

/** The parsed, checked request an operation handler receives. */
export interface SoapRequest {
  /** Local name of the request element (= WSDL operation name). */
  operation: string;
  path: string;
  /** SOAPAction header without quotes ('' or undefined when the client sent none). */
  soapAction?: string;
  /** The request element (the one child of soap:Body). */
  body: NsElement;
  /** soap:Header, if any. */
  header?: NsElement;
  /** The checked call context, when the request element has a CCTX:Context child. */
  context?: CallContext;
  transport: TransportInfo;
  receivedAt: Date;
  /** Counts one PIN entry at the terminal in this call's record of the admin call log. */
  countPinEntry?: () => void;
}

export type OperationHandler = (req: SoapRequest, k: KonnektorContext) => Promise<XmlElement | string>;

export interface SoapOperation {
  /** URL path of the service endpoint, e.g. '/ws/SignatureService'. */
  path: string;
  /** SOAPAction of the WSDL binding (checked when the client sends a non-empty SOAPAction). */
  soapAction: string;
  /** Expanded name of the request element. */
  requestElement: { ns: string; local: string };
  handler: OperationHandler;
  /**
   * 'required' (default): a request without CCTX:Context is a Syntaxfehler; 'optional': checked
   * when present; 'none': not looked for.
   */
  context?: 'required' | 'optional' | 'none';
}

/** A record of one call for the admin view. */
export interface CallRecord {
  id: number;
  time: string;
  durationMs: number;
  path: string;
  operation?: string;
  soapAction?: string;
  context?: CallContext;
  httpStatus: number;
  faultCode?: number;
  faultString?: string;
  faultDetail?: string;
  client?: string;
  /** PIN entries at the terminal during this call (set only by operations that asked for a PIN). */
  pinEntries?: number;
}

export class SoapRouter {
  private readonly ops = new Map<string, SoapOperation[]>();

  constructor(private readonly k: () => KonnektorContext) {}

  /** Adds an operation; the same element twice on one path is a programming error. */
  registerOperation(op: SoapOperation): void {
    const list = this.ops.get(op.path) ?? [];
    if (list.some((o) => o.requestElement.ns === op.requestElement.ns && o.requestElement.local === op.requestElement.local)) {
      throw new Error(`operation {${op.requestElement.ns}}${op.requestElement.local} is already registered on ${op.path}`);
    }
    list.push(op);
    this.ops.set(op.path, list);
  }

  /** Registered paths and their operations (for the service directory and the admin view). */
  operations(): SoapOperation[] {
    return [...this.ops.values()].flat();
  }

  paths(): string[] {
    return [...this.ops.keys()];
  }

  /** One POST route per endpoint path. */
  routes(maxBodyBytes: number): Route[] {
    return this.paths().map((p) => ({
      method: 'POST',
      path: p,
      maxBodyBytes,
      errorFormat: 'text',
      handler: async (ctx: RequestContext) => {
        const r = await this.dispatch(p, ctx);
        return { status: r.status, headers: { 'content-type': SOAP_CONTENT_TYPE }, body: r.body };
      },
    }));
  }

  private async dispatch(path: string, http: RequestContext): Promise<{ status: number; body: string }> {
    const k = this.k();
    const started = Date.now();
    const receivedAt = k.clock();
    const record: Omit<CallRecord, 'id'> = {
      time: receivedAt.toISOString(),
      durationMs: 0,
      path,
      httpStatus: 200,
      client: http.req.socket.remoteAddress,
    };
    try {
      const ct = String(http.req.headers['content-type'] ?? '');
      if (ct && !/^(text\/xml|application\/soap\+xml|application\/xml)\b/i.test(ct)) {
        throw konnektorFault(4000, `content type "${ct}" is not a SOAP 1.1 message (expected text/xml)`);
      }
      const soapAction = soapActionOf(http.req.headers.soapaction);
      record.soapAction = soapAction;
      const envelope = parseSoapEnvelope(http.body);
      const body = envelope.body;
      const candidates = this.ops.get(path) ?? [];
      const op = candidates.find((o) => body.is(o.requestElement.ns, o.requestElement.local));
      if (!op) {
        const byAction = soapAction ? candidates.find((o) => o.soapAction === soapAction) : undefined;
        throw konnektorFault(
          4000,
          `unknown operation {${body.ns}}${body.local} on ${path}` +
            (byAction ? ` (SOAPAction names ${byAction.requestElement.local}, whose request element is {${byAction.requestElement.ns}}${byAction.requestElement.local})` : '') +
            ` (known: ${candidates.map((o) => o.requestElement.local).join(', ')})`,
        );
      }
      record.operation = op.requestElement.local;
      if (soapAction && soapAction !== op.soapAction) {
        throw konnektorFault(4000, `SOAPAction "${soapAction}" does not fit the request element ${op.requestElement.local} (expected "${op.soapAction}")`);
      }
      const transport = transportOf(http);
      let context: CallContext | undefined;
      const mode = op.context ?? 'required';
      if (mode !== 'none') {
        const ctxEls = body.children('Context', CCTX_NS);
        if (ctxEls.length > 1) throw konnektorFault(4000, `${op.requestElement.local} holds more than one Context`);
        if (ctxEls.length === 1) {
          context = parseCallContext(ctxEls[0]);
          record.context = context;
          k.model.check(context, transport);
        } else if (mode === 'required') {
          throw konnektorFault(4000, `${op.requestElement.local} has no CCTX:Context (MandantId, ClientSystemId, WorkplaceId)`);
        }
      }
      const result = await op.handler(
        {
          operation: op.requestElement.local,
          path,
          soapAction,
          body,
          header: envelope.header,
          context,
          transport,
          receivedAt,
          countPinEntry: () => {
            record.pinEntries = (record.pinEntries ?? 0) + 1;
          },
        },
        k,
      );
      return { status: 200, body: soapEnvelope(result) };
    } catch (e) {
      if (e instanceof HttpError) throw e;
      let fault: SoapFault;
      if (isSoapFault(e)) fault = e;
      else {
        k.log(`internal error in ${record.operation ?? path}: ${(e as Error)?.stack ?? String(e)}`);
        fault = konnektorFault(4001, (e as Error)?.message ?? String(e));
      }
      record.httpStatus = fault.httpStatus;
      record.faultCode = fault.code;
      record.faultString = fault.faultstring;
      record.faultDetail = fault.detail;
      return { status: fault.httpStatus, body: soapFaultEnvelope(fault, { timestamp: k.clock() }) };
    } finally {
      record.durationMs = Date.now() - started;
      k.calls.add(record);
    }
  }
}

function transportOf(http: RequestContext): TransportInfo {
  const socket = http.req.socket as Partial<tls.TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return {};
  const peer = socket.getPeerCertificate(false);
  if (!peer || !peer.raw || !socket.authorized) return {};
  return { clientCertificate: peer.raw, clientCertificateCn: certificateCommonName(peer.raw) };
}

// ---------------------------------------------------------------------------
// Helpers for handlers
// ---------------------------------------------------------------------------

/** One element of an XSD sequence: expanded name and occurrence bounds (default 1..1). */
export interface Particle {
  local: string;
  ns: string;
  min?: number;
  /** Infinity for unbounded. */
  max?: number;
}

/**
 * Checks that the children of `e` follow `sequence` exactly (order, occurrences, no other
 * elements, no text) and returns them by local name. Any deviation is fault 4000 naming what is
 * wrong. Attributes are not checked here.
 */
export function expectSequence(e: NsElement, sequence: Particle[]): Map<string, NsElement[]> {
  const out = new Map<string, NsElement[]>();
  const children = e.children();
  if (e.hasOwnText()) throw konnektorFault(4000, `text directly inside ${e.local}`);
  let i = 0;
  for (const p of sequence) {
    const min = p.min ?? 1;
    const max = p.max ?? 1;
    const got: NsElement[] = [];
    while (i < children.length && children[i].is(p.ns, p.local) && got.length < max) got.push(children[i++]);
    if (got.length < min) {
      const found = children[i] ? `{${children[i].ns}}${children[i].local}` : 'the end of the element';
      throw konnektorFault(4000, `${e.local}: expected ${p.local} ({${p.ns}}), found ${found}`);
    }
    out.set(p.local, got);
  }
  if (i < children.length) throw konnektorFault(4000, `${e.local}: unexpected element {${children[i].ns}}${children[i].local}`);
  return out;
}

/** Text of a leaf element (fault 4000 when it has child elements). */
export function leafText(e: NsElement): string {
  if (e.children().length) throw konnektorFault(4000, `${e.local} must hold text only`);
  return e.text().trim();
}

/** Parses an xs:boolean (fault 4000 otherwise). */
export function xsBoolean(value: string, what: string): boolean {
  const v = value.trim();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw konnektorFault(4000, `${what} must be true or false, got "${value}"`);
}

/** CONN:Status with CONN:Result (OK by default). Declares xmlns:CONN. */
export function statusElement(result: 'OK' | 'Warning' = 'OK'): XmlElement {
  return el('CONN:Status', { 'xmlns:CONN': NS.CONN }, [el('CONN:Result', {}, result)]);
}
