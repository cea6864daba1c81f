/**
 * The pharmacy's messages (AVS side of gemSysL_eRp UC 4.6, 4.7, 4.9), through the Fachdienst's
 * public API over the VAU (the Avs's transport):
 *
 *   UC 4.6 (A_18758): GET /Communication → the DispReq messages addressed to the pharmacy; the
 *          E-Rezept-Token in basedOn is validated (A_22078 rules of erezept-token.ts) and handed to the
 *          same path as a scanned token (Avs.remember, then Avs.accept).
 *   UC 4.7: POST /Communication with a GEM_ERP_PR_Communication_Reply to the insured (KVNR), payload
 *          the Reply JSON (`version`, `supplyOptionsType`, `info_text`, `pickUpCodeHR`, …).
 *   UC 4.9: DELETE /Communication/<id> of a message the pharmacy sent; the Fachdienst's `Warning`
 *          header (the recipient has already fetched it) is returned.
 *
 * Wire format: simulators/lib/erp-communication.ts (shared with the FdV). Usage: `avs.messages`.
 */
import { buildReply, readMessage, type ErpMessage, type ReplyPayload } from '../lib/erp-communication';
import { withErpRetry, type ErpRetryPolicy } from '../lib/erp-retry';
import type { ERezeptToken } from '../lib/erezept-token';
import { serializeFhirXml, type FhirJson } from '../lib/fhir';
import { fetchAllPages } from '../lib/fhir-paging';
import { VauClientError, type VauResponse } from '../lib/vau-client';
import type { AcceptedPrescription, Avs } from './avs';
import { fhirBodyOf } from '../lib/fachdienst-answer';

const FHIR_XML = 'application/fhir+xml';

/** A message the pharmacy received, with the token it carried (DispReq) when valid. */
export interface ReceivedMessage {
  message: ErpMessage;
  /** The validated E-Rezept-Token of a DispReq (undefined for other kinds or an invalid basedOn). */
  token?: ERezeptToken;
  /** Why a DispReq's token was not usable (invalid basedOn). */
  problem?: string;
}

/** The Fachdienst refused a message operation: status and OperationOutcome texts. */
export class MessageRefusal extends Error {
  override name = 'MessageRefusal';
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly texts: string[],
    readonly outcome?: FhirJson,
  ) {
    super(`${operation}: the E-Rezept-Fachdienst answered ${status}${texts.length ? ` "${texts.join('; ')}"` : ''}`);
  }
}

export class AvsMessages {
  /** Ids of DispReq messages whose token was already handed to the accept path. */
  private readonly handled = new Set<string>();

  constructor(
    private readonly avs: Pick<Avs, 'fachdienst' | 'pharmacy' | 'remember' | 'accept'>,
    private readonly retry?: Partial<ErpRetryPolicy>,
  ) {}

  /**
   * UC 4.6 (A_18758): all messages for the pharmacy (GET /Communication, every page). Tokens of
   * DispReq messages addressed to this pharmacy are validated and remembered by the AVS.
   */
  async receive(q: { count?: number; maxPages?: number } = {}): Promise<ReceivedMessage[]> {
    const first = `/Communication${q.count !== undefined ? `?_count=${encodeURIComponent(String(q.count))}` : ''}`;
    const { resources } = await fetchAllPages(
      first,
      async (target) => {
        const r = await this.call('GET /Communication', 'GET', target, true);
        return this.expect(r, 'GET /Communication', [200]) ?? {};
      },
      q.maxPages,
    );
    const out: ReceivedMessage[] = [];
    for (const res of resources.filter((x) => x.resourceType === 'Communication')) {
      const message = readMessage(res);
      const forUs = message.recipient?.value === this.avs.pharmacy.telematikId;
      if (message.kind !== 'DispReq' || !forUs) {
        out.push({ message });
        continue;
      }
      if (!message.token) {
        out.push({ message, problem: `basedOn ${JSON.stringify(message.basedOn ?? null)} is no valid E-Rezept-Token` });
        continue;
      }
      this.avs.remember(message.token);
      out.push({ message, token: message.token });
    }
    return out;
  }

  /**
   * UC 4.6 end to end: receive, then $accept every token of a DispReq not handled before (the same
   * path as a scanned token, incl. the QES check). Refusals of single prescriptions are returned,
   * not thrown, so one bad message does not block the others.
   */
  async acceptReceived(): Promise<Array<{ message: ErpMessage; accepted?: AcceptedPrescription; error?: Error }>> {
    const out: Array<{ message: ErpMessage; accepted?: AcceptedPrescription; error?: Error }> = [];
    for (const m of await this.receive()) {
      if (!m.token || !m.message.id || this.handled.has(m.message.id)) continue;
      this.handled.add(m.message.id);
      try {
        out.push({ message: m.message, accepted: await this.avs.accept(m.token) });
      } catch (e) {
        out.push({ message: m.message, error: e as Error });
      }
    }
    return out;
  }

  /** UC 4.7: a Reply to the insured (KVNR) about a prescription; the stored message as answered. */
  async reply(prescriptionId: string, kvnr: string, payload: ReplyPayload): Promise<ErpMessage> {
    const body = serializeFhirXml(buildReply({ prescriptionId, kvnr, payload }), { declaration: true });
    const r = await this.call('POST /Communication', 'POST', '/Communication', false, body);
    const res = this.expect(r, 'POST /Communication', [201, 200]);
    if (!res || res.resourceType !== 'Communication') throw new MessageRefusal('POST /Communication', r.status, ['the answer is no Communication']);
    return readMessage(res);
  }

  /** UC 4.9: deletes a message the pharmacy sent; `warning` = the Fachdienst's Warning header, if any. */
  async delete(id: string): Promise<{ warning?: string }> {
    if (typeof id !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(id)) throw new TypeError(`delete: ${JSON.stringify(id)} is not a resource id`);
    const r = await this.call('DELETE /Communication', 'DELETE', `/Communication/${id}`, true);
    this.expect(r, 'DELETE /Communication', [204, 200]);
    return r.headers.warning ? { warning: r.headers.warning } : {};
  }

  private call(operation: string, method: string, target: string, idempotent: boolean, body?: string): Promise<VauResponse> {
    const headers: Record<string, string> = { Accept: FHIR_XML, ...(body !== undefined ? { 'Content-Type': `${FHIR_XML}; charset=utf-8` } : {}) };
    return withErpRetry(() => this.avs.fachdienst.request(method, target, { headers, ...(body !== undefined ? { body } : {}) }), {
      idempotent,
      policy: this.retry,
      isTransportError: (e) => e instanceof VauClientError && e.kind === 'transport',
    }).catch((e: unknown) => {
      if (e instanceof VauClientError && e.kind === 'outer-status') throw new MessageRefusal(operation, e.outerStatus ?? 0, [e.outerBody ?? e.message]);
      throw e;
    });
  }

  private expect(r: VauResponse, operation: string, ok: number[]): FhirJson | undefined {
    const body = fhirBodyOf(r);
    if (ok.includes(r.status)) return body;
    const texts =
      body?.resourceType === 'OperationOutcome'
        ? ((body.issue as FhirJson[] | undefined) ?? [])
            .map((i) => ((i.details as FhirJson | undefined)?.text as string | undefined) ?? (i.diagnostics as string | undefined))
            .filter((t): t is string => typeof t === 'string' && t.length > 0)
        : [r.text().slice(0, 300)].filter((t) => t.length > 0);
    throw new MessageRefusal(operation, r.status, texts, body);
  }
}
