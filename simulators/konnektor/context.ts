/**
 * The Konnektor's call context (ConnectorContext.xsd: MandantId, ClientSystemId, WorkplaceId,
 * UserId) and its information model (Infomodell): which Mandant has which client systems,
 * workplaces and card terminals, and from which workplace a card terminal can be used.
 *
 *   const call = parseCallContext(contextElement);          // 4000 / 4021 on bad input
 *   model.check(call, { clientCertificate });               // 4004 … 4014, 4204
 *   model.checkTerminalAccess(call, 'CT-SIM-1');            // 4012, 4015
 *
 * Also the KonnektorContext that every operation handler receives: the simulator's parts.
 */
import * as crypto from 'node:crypto';
import type { Environment, KonnektorConfig } from '../lib/config';
import { konnektorFault } from '../lib/soap';
import type { NsElement } from '../lib/xml';
import type { Pki } from '../pki/hierarchy';
import type { CardAccess } from './card-access';
import type { CallLog } from './admin';
import { KONNEKTOR_NS } from '../lib/konnektor-namespaces';

export const CONN_NS = KONNEKTOR_NS.CONN;
export const CCTX_NS = KONNEKTOR_NS.CCTX;

/** The checked call context of a request. */
export interface CallContext {
  mandantId: string;
  clientSystemId: string;
  workplaceId: string;
  userId?: string;
}

/** Reads a CCTX:Context element strictly (element order and names as ConnectorContext.xsd says). */
export function parseCallContext(ctx: NsElement): CallContext {
  const children = ctx.children();
  const order = ['MandantId', 'ClientSystemId', 'WorkplaceId', 'UserId'];
  let pos = 0;
  const values: Record<string, string> = {};
  for (const c of children) {
    const at = order.indexOf(c.local);
    if (c.ns !== CONN_NS || at < pos) {
      throw konnektorFault(4000, `unexpected element {${c.ns}}${c.local} in Context (expected ${order.slice(pos).map((o) => `CONN:${o}`).join(', ')})`);
    }
    if (c.children().length) throw konnektorFault(4000, `Context/${c.local} must hold text only`);
    const v = c.text();
    if (v.length > 64) throw konnektorFault(4000, `Context/${c.local} is longer than 64 characters`);
    values[c.local] = v.trim();
    pos = at + 1;
  }
  if (ctx.hasOwnText()) throw konnektorFault(4000, 'text directly inside Context');
  const missing = ['MandantId', 'ClientSystemId', 'WorkplaceId'].filter((k) => !values[k]);
  if (missing.length) throw konnektorFault(4021, `missing or empty in Context: ${missing.join(', ')}`);
  return {
    mandantId: values.MandantId,
    clientSystemId: values.ClientSystemId,
    workplaceId: values.WorkplaceId,
    ...(values.UserId ? { userId: values.UserId } : {}),
  };
}

/** What the TLS layer knows about the caller. */
export interface TransportInfo {
  /** DER of the client's TLS certificate (when it presented one). */
  clientCertificate?: Buffer;
  /** Subject CN of that certificate. */
  clientCertificateCn?: string;
}

/** The information model of one Konnektor (from the environment's konnektor section). */
export class InformationModel {
  constructor(readonly config: KonnektorConfig) {}

  private mandant(id: string) {
    return this.config.mandants.find((m) => m.id === id);
  }

  private workplace(id: string) {
    return this.config.workplaces.find((w) => w.id === id);
  }

  terminal(id: string) {
    return this.config.cardTerminals.find((t) => t.id === id);
  }

  /**
   * Checks a call context against the model (the order a real Konnektor checks in): known
   * Mandant (4004), known client system (4005), known workplace (4006), client system of the
   * Mandant (4010), workplace of the Mandant (4011), workplace served by the client system (4014),
   * and with client-certificate authentication the certificate of the client system (4204).
   */
  check(call: CallContext, transport: TransportInfo = {}): void {
    const m = this.mandant(call.mandantId);
    if (!m) throw konnektorFault(4004, `no Mandant "${call.mandantId}" in the information model`);
    const cs = this.config.clientSystems.find((c) => c.id === call.clientSystemId);
    if (!cs) throw konnektorFault(4005, `no client system "${call.clientSystemId}" in the information model`);
    const wp = this.workplace(call.workplaceId);
    if (!wp) throw konnektorFault(4006, `no workplace "${call.workplaceId}" in the information model`);
    if (!m.clientSystems.includes(cs.id)) throw konnektorFault(4010, `client system "${cs.id}" is not assigned to Mandant "${m.id}"`);
    if (!m.workplaces.includes(wp.id)) throw konnektorFault(4011, `workplace "${wp.id}" is not assigned to Mandant "${m.id}"`);
    if (!wp.clientSystems.includes(cs.id)) throw konnektorFault(4014, `workplace "${wp.id}" is not assigned to client system "${cs.id}"`);
    if (this.config.clientAuth) {
      if (!transport.clientCertificate) throw konnektorFault(4204, 'no TLS client certificate was presented');
      if (cs.certificateCn && transport.clientCertificateCn !== cs.certificateCn) {
        throw konnektorFault(4204, `the TLS client certificate (CN "${transport.clientCertificateCn ?? ''}") is not the one of client system "${cs.id}"`);
      }
    }
  }

  /** Card terminals the caller may see: the workplace's (local and remote) or, mandant-wide, all of the Mandant's. */
  visibleTerminals(call: CallContext, mandantWide = false): string[] {
    const m = this.mandant(call.mandantId);
    if (!m) return [];
    if (mandantWide) return [...m.cardTerminals];
    const wp = this.workplace(call.workplaceId);
    if (!wp) return [];
    return m.cardTerminals.filter((t) => wp.localTerminals.includes(t) || wp.remoteTerminals.includes(t));
  }

  /**
   * May the caller use a card in terminal `ctId`? The terminal must belong to the Mandant (4012)
   * and be local or remote at the workplace (4015); `local` demands a local terminal (4016, PIN entry).
   */
  checkTerminalAccess(call: CallContext, ctId: string, opts: { local?: boolean } = {}): void {
    const m = this.mandant(call.mandantId);
    if (!m || !m.cardTerminals.includes(ctId)) throw konnektorFault(4012, `card terminal "${ctId}" is not assigned to Mandant "${call.mandantId}"`);
    const wp = this.workplace(call.workplaceId);
    const local = !!wp?.localTerminals.includes(ctId);
    if (!local && !wp?.remoteTerminals.includes(ctId)) throw konnektorFault(4015, `card terminal "${ctId}" cannot be used from workplace "${call.workplaceId}"`);
    if (opts.local && !local) throw konnektorFault(4016, `card terminal "${ctId}" is not local at workplace "${call.workplaceId}" (PIN entry needs a local terminal)`);
  }
}

/** CN of a DER certificate's subject (for client-certificate checks). */
export function certificateCommonName(der: Buffer): string | undefined {
  try {
    const x = new crypto.X509Certificate(der);
    const m = /(?:^|\n)CN=([^\n]*)/.exec(x.subject);
    return m?.[1];
  } catch {
    return undefined;
  }
}

/** The simulator's parts every operation handler may use. */
export interface KonnektorContext {
  env: Environment;
  config: KonnektorConfig;
  model: InformationModel;
  /** The cards seen through PC/SC (card handles, PIN, certificates, signatures). */
  cards: CardAccess;
  /** The simulated PKI (trust anchor for VerifyCertificate; its OCSP responder via pkiUrl). */
  pki: Pki;
  /** Base URL of the PKI service (OCSP at `${pkiUrl}/ocsp`, TSL at `${pkiUrl}/tsl.xml`). */
  pkiUrl: string;
  /** Base URL of this Konnektor (https://host:port). */
  url: string;
  clock: () => Date;
  log: (message: string) => void;
  calls: CallLog;
}
