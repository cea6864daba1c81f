/**
 * The simulated FdV (Frontend des Versicherten, the insured's E-Rezept app) at API level: it talks
 * to the E-Rezept-Fachdienst only through the VAU (simulators/lib/vau-client.ts, X-erp-user: v) with
 * the access token of the insured's IDP login with the eGK over PC/SC (simulators/fdv/authn.ts,
 * client eRezeptApp). FHIR in JSON, as the apps use it. See docs/fdv.md.
 *
 *   const fdv = await Fdv.open({ env, insured: 'Jonas Keller' });
 *   await fdv.login();                                         // UC 5.1 (eGK signs through PC/SC)
 *   const rx = await fdv.downloadAll();                        // UC 3.1: GET /Task (pages), GET /Task/<id> each
 *   const png = fdv.dataMatrix([fdv.token(rx[0].taskId)]);     // A_18789, A_18534
 *   fdv.content(rx[0].taskId);                                 // A_18539
 *   await fdv.sendToPharmacy(fdv.token(id), '3-SMC-B-Testkarte-883110000116873');   // UC 3.3
 *   await fdv.auditEvents({ sort: '-date', language: 'de' });  // UC 3.5
 *   await fdv.delete(id);                                      // UC 3.2 ($abort)
 *   await fdv.retrieveAsRepresentative(tokenOfSomeoneElse);    // UC 3.6 (X-AccessCode)
 *   await fdv.close();
 *
 * Every refusal of the Fachdienst is an FdvError with the inner status and the OperationOutcome text.
 */
import { loadPersona } from '../../cards/index';
import type { EgkPersona } from '../../cards/persona';
import type { ClientSystemAuthn } from '../authenticator/client-wiring';
import type { DeviceSsoStore } from '../authenticator/sso-store';
import { EgkPcscSigner } from '../authenticator/signers/egk-pcsc';
import type { Environment } from '../lib/config';
import { renderERezeptPng, scanERezeptPng } from '../lib/datamatrix';
import { buildDispReq, buildRepresentativeMessage, readMessage, type DispReqPayload, type ErpMessage } from '../lib/erp-communication';
import { withErpRetry, type ErpRetryPolicy } from '../lib/erp-retry';
import { MAX_TOKENS_PER_CODE, assertAccessCode, assertPrescriptionId, formatToken, type ERezeptToken } from '../lib/erezept-token';
import { parseFhir, serializeFhirJson, type FhirJson, type FhirResource } from '../lib/fhir';
import { bundleResources } from '../lib/fhir/resources';
import { fetchAllPages, PagingError } from '../lib/fhir-paging';
import { fetchPkiTrust, type IdpRelyingParty, type IdpTrust, type TokenSet } from '../lib/idp-client';
import { VauClient, VauClientError, type VauRequestOptions, type VauResponse } from '../lib/vau-client';
import { auditSearchParams, readAuditEvent, type AuditEntry, type AuditQuery } from './audit';
import { createInsuredAuthn } from './authn';
import { errorOfAnswer, FdvError, FdvLoginError, FdvUsageError } from './errors';
import { prescriptionBundleOf, prescriptionContent, readTask, type InsuredTask, type PrescriptionContent, type TaskStatus } from './prescription';
import { exportTokens, importTokens } from './token-file';

export const FDV_USER_AGENT = 'ti-harness-fdv/1.0';
const FHIR_JSON = 'application/fhir+json';
/** Upper bound of followed `next` links per listing (a Fachdienst that keeps paging is cut off). */
export const DEFAULT_MAX_PAGES = 50;

/** What the FdV needs of a Fachdienst client: one FHIR request through the VAU (VauClient). */
export type FachdienstTransport = Pick<VauClient, 'request'>;

export interface FdvOptions {
  env: Environment;
  /** The insured's eGK persona (name, id or object). */
  insured: string | EgkPersona;
  /** The Fachdienst client (default: VauClient to env.services.fachdienst.url, user "v", IDP token). */
  fachdienst?: FachdienstTransport;
  /** The IDP login (default: createInsuredAuthn with the eGK through PC/SC). */
  authn?: ClientSystemAuthn;
  /** The IDP client the app logs in as (default the E-Rezept-App eRezeptApp; KNOWN_CLIENTS.otherInsuredApp = a non-FdV app). */
  relyingParty?: IdpRelyingParty;
  /** The eGK reader (PC/SC): reader name, pcscd socket, or the vpcd base port (default env.cards.vpcdPort). */
  card?: { reader?: string; socket?: string; vpcdPort?: number; pin?: string };
  /** The device's SSO store (share it between apps on one device). */
  ssoStore?: DeviceSsoStore;
  trust?: IdpTrust;
  /** Retry rules (simulators/lib/erp-retry.ts). */
  retry?: Partial<ErpRetryPolicy>;
  /** Clock in ms (token lifetimes, VAU certificate validity; default Date.now). */
  clock?: () => number;
  userAgent?: string;
}

/** A prescription the FdV holds: the Task, and after GET /Task/<id> the KBV bundle. */
export interface HeldPrescription extends InsuredTask {
  /** The KBV bundle (JSON) from GET /Task/<id>. */
  prescription?: FhirJson;
  /** True when held as representative (the prescription is someone else's). */
  asRepresentative?: boolean;
}

/** A page-followed listing: all entries plus the page count (paging is visible to tests). */
export interface Listing<T> {
  items: T[];
  pages: number;
  /** Bundle.total of the first page, when given. */
  total?: number;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  contentType?: string;
  vauErrorCode?: string;
}

function persona(p: string | EgkPersona): EgkPersona {
  const out = typeof p === 'string' ? loadPersona(p) : p;
  if (out.type !== 'eGK') throw new TypeError(`Fdv: persona "${out.name}" has an ${out.type}, not an eGK`);
  return out;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class Fdv {
  readonly insured: EgkPersona;
  readonly fachdienst: FachdienstTransport;
  readonly authn?: ClientSystemAuthn;
  private readonly held = new Map<string, HeldPrescription>();
  /** Tokens received by scan, import or message (A_18535, A_18537, UC 3.4). */
  private readonly received = new Map<string, ERezeptToken>();
  private readonly retry?: Partial<ErpRetryPolicy>;
  private readonly ownsAuthn: boolean;

  private constructor(p: { insured: EgkPersona; fachdienst: FachdienstTransport; authn?: ClientSystemAuthn; ownsAuthn: boolean; retry?: Partial<ErpRetryPolicy> }) {
    this.insured = p.insured;
    this.fachdienst = p.fachdienst;
    this.authn = p.authn;
    this.ownsAuthn = p.ownsAuthn;
    this.retry = p.retry;
  }

  /** Sets up the eGK login (PC/SC) and the VAU client from the environment unless given. */
  static async open(opts: FdvOptions): Promise<Fdv> {
    const insured = persona(opts.insured);
    let authn = opts.authn;
    let ownsAuthn = false;
    let fachdienst = opts.fachdienst;
    try {
      if (!fachdienst) {
        const trust = opts.trust ?? (await fetchPkiTrust(opts.env.services.pki.url));
        if (!authn) {
          const card = opts.card ?? {};
          const signer = new EgkPcscSigner({
            persona: insured.name,
            ...(card.reader ? { reader: card.reader } : {}),
            ...(card.pin ? { pin: card.pin } : {}),
            ...(card.socket ? { socket: card.socket } : { vpcdPort: card.vpcdPort ?? opts.env.cards.vpcdPort }),
          });
          authn = await createInsuredAuthn({ env: opts.env, trust, signer, ...(opts.relyingParty ? { relyingParty: opts.relyingParty } : {}), ...(opts.ssoStore ? { ssoStore: opts.ssoStore } : {}), ...(opts.clock ? { clock: opts.clock } : {}) });
          ownsAuthn = true;
        }
        const tokens = authn.tokens;
        fachdienst = new VauClient({
          fachdienstUrl: opts.env.services.fachdienst.url,
          trust,
          user: 'v',
          userAgent: opts.userAgent ?? FDV_USER_AGENT,
          ...(opts.clock ? { clock: opts.clock } : {}),
          accessToken: async () => {
            try {
              return await tokens.accessToken();
            } catch (e) {
              throw new FdvLoginError(`the insured's IDP login with the eGK failed: ${(e as Error).message}`, { cause: e });
            }
          },
        });
      }
      return new Fdv({ insured, fachdienst, authn, ownsAuthn, retry: opts.retry });
    } catch (e) {
      if (ownsAuthn) await authn?.close().catch(() => undefined);
      throw e;
    }
  }

  /** The insured's KVNR (from the persona). */
  get kvnr(): string {
    return this.insured.insurance.kvnr;
  }

  /** UC 5.1: logs in now (the eGK signs the challenge; an SSO session answers without the card). */
  async login(opts: { forceLogin?: boolean } = {}): Promise<TokenSet> {
    if (!this.authn) throw new FdvUsageError('login: this FdV was given a Fachdienst client without an IDP login');
    try {
      return await this.authn.tokens.login(opts);
    } catch (e) {
      throw new FdvLoginError(`the insured's IDP login with the eGK failed: ${(e as Error).message}`, { cause: e });
    }
  }

  // ------------------------------------------------------------------ UC 3.1: download prescriptions

  /** GET /Task (the insured's Tasks), following `next` links. Filters: status, modified since. */
  async listTasks(q: { status?: TaskStatus; modifiedSince?: Date | string; count?: number; maxPages?: number } = {}): Promise<Listing<InsuredTask>> {
    const p = new URLSearchParams();
    if (q.status) p.append('status', q.status);
    if (q.modifiedSince !== undefined) p.append('modified', `ge${q.modifiedSince instanceof Date ? q.modifiedSince.toISOString() : q.modifiedSince}`);
    if (q.count !== undefined) {
      if (!Number.isInteger(q.count) || q.count < 1) throw new TypeError('listTasks: count must be a positive integer');
      p.append('_count', String(q.count));
    }
    const query = p.toString();
    const listing = await this.pages('GET /Task', `/Task${query ? `?${query}` : ''}`, {}, q.maxPages);
    return { ...listing, items: listing.items.filter((r) => r.resourceType === 'Task').map(readTask) };
  }

  /**
   * GET /Task/<id>: the Task with the KBV bundle. With `accessCode` (X-AccessCode) as representative
   * (UC 3.6). The result is kept (held()).
   */
  async getPrescription(taskId: string, opts: { accessCode?: string } = {}): Promise<HeldPrescription> {
    assertPrescriptionId(taskId);
    if (opts.accessCode !== undefined) assertAccessCode(opts.accessCode);
    const headers: Record<string, string> = opts.accessCode ? { 'X-AccessCode': opts.accessCode } : {};
    const r = await this.call('GET /Task/<id>', 'GET', `/Task/${taskId}`, { headers, idempotent: true }, taskId);
    if (r.status !== 200) throw errorOfAnswer('GET /Task/<id>', r, taskId);
    const bundle = this.parse(r, 'GET /Task/<id>', taskId);
    const taskRes = bundle.resourceType === 'Task' ? bundle : bundleResources(bundle, 'Task')[0];
    if (!taskRes) throw new FdvError('GET /Task/<id>', r.status, 'the answer holds no Task', { prescriptionId: taskId });
    const task = readTask(taskRes);
    const prescription = bundle.resourceType === 'Bundle' ? prescriptionBundleOf(bundle, taskId) : undefined;
    const kept: HeldPrescription = { ...task, ...(prescription ? { prescription } : {}), ...(task.kvnr && task.kvnr !== this.kvnr ? { asRepresentative: true } : {}) };
    if (opts.accessCode && !kept.accessCode) kept.accessCode = opts.accessCode;
    this.held.set(taskId, kept);
    return kept;
  }

  /**
   * UC 3.1 (A_18506, A_18868): all prescriptions — GET /Task with paging, then GET /Task/<id> for
   * each Task that can be read (status ready, in-progress, completed; cancelled ones have no content).
   */
  async downloadAll(q: Parameters<Fdv['listTasks']>[0] = {}): Promise<HeldPrescription[]> {
    const { items } = await this.listTasks(q);
    const out: HeldPrescription[] = [];
    for (const t of items) {
      if (t.status === 'cancelled' || t.status === 'draft') {
        this.held.set(t.taskId, { ...t });
        out.push({ ...t });
        continue;
      }
      out.push(await this.getPrescription(t.taskId));
    }
    return out;
  }

  /** The prescriptions the FdV holds (copies). */
  prescriptions(): HeldPrescription[] {
    return [...this.held.values()].map((h) => ({ ...h }));
  }

  /** One held prescription (a copy), or undefined. */
  heldPrescription(taskId: string): HeldPrescription | undefined {
    const h = this.held.get(taskId);
    return h && { ...h };
  }

  // ------------------------------------------------------------------ tokens, codes, files

  /** A_18789: the E-Rezept-Token (PrescriptionID + AccessCode) of a held prescription. */
  token(taskId: string): ERezeptToken {
    const h = this.held.get(taskId);
    if (!h) throw new FdvUsageError(`token: the FdV holds no prescription ${taskId} (download it first)`);
    if (!h.accessCode) throw new FdvUsageError(`token: prescription ${taskId} has no AccessCode (flow type ${h.flowType ?? '?'}: no token for the insured)`);
    const token = { prescriptionId: taskId, accessCode: h.accessCode };
    formatToken(token); // validates both parts
    return token;
  }

  /** The token as text: `Task/<id>/$accept?ac=<AccessCode>` (A_18789). */
  tokenText(taskId: string): string {
    return formatToken(this.token(taskId));
  }

  /** A_18534: one DataMatrix code (PNG) carrying 1 to 3 tokens. */
  dataMatrix(tokens: readonly ERezeptToken[]): Buffer {
    if (tokens.length > MAX_TOKENS_PER_CODE) throw new FdvUsageError(`dataMatrix: one code carries at most ${MAX_TOKENS_PER_CODE} E-Rezept-Tokens, got ${tokens.length} (use dataMatrixCodes)`);
    return renderERezeptPng(tokens);
  }

  /** A_18534: codes for any number of tokens, at most 3 per code. */
  dataMatrixCodes(tokens: readonly ERezeptToken[]): Buffer[] {
    if (tokens.length === 0) throw new FdvUsageError('dataMatrixCodes: give at least one token');
    return chunks(tokens, MAX_TOKENS_PER_CODE).map((c) => renderERezeptPng(c));
  }

  /** A_18535: scans a DataMatrix code (PNG) and keeps its tokens. */
  scan(png: Buffer): ERezeptToken[] {
    const tokens = scanERezeptPng(png);
    for (const t of tokens) this.received.set(t.prescriptionId, t);
    return tokens;
  }

  /** A_18537: the token file text for third-party apps (format: token-file.ts, docs/fdv.md). */
  exportTokens(tokens: readonly ERezeptToken[]): string {
    return exportTokens(tokens);
  }

  /** A_18537: imports a token file; the tokens are kept. */
  importTokens(file: string | Buffer): ERezeptToken[] {
    const tokens = importTokens(file);
    for (const t of tokens) this.received.set(t.prescriptionId, t);
    return tokens;
  }

  /** Tokens received by scan, import or message. */
  receivedTokens(): ERezeptToken[] {
    return [...this.received.values()];
  }

  /** A_18539: the content of a held prescription (its KBV bundle). */
  content(taskId: string): PrescriptionContent {
    const h = this.held.get(taskId);
    if (!h?.prescription) throw new FdvUsageError(`content: the FdV holds no prescription data for ${taskId} (GET /Task/<id> first)`);
    return prescriptionContent(h.prescription);
  }

  // ------------------------------------------------------------------ UC 3.2: delete

  /**
   * UC 3.2 (A_18507, A_18565): POST /Task/<id>/$abort as the insured (as representative with
   * `accessCode` → X-AccessCode). 204 expected; the prescription and its token are forgotten.
   */
  async delete(taskId: string, opts: { accessCode?: string } = {}): Promise<void> {
    assertPrescriptionId(taskId);
    if (opts.accessCode !== undefined) assertAccessCode(opts.accessCode);
    const headers: Record<string, string> = opts.accessCode ? { 'X-AccessCode': opts.accessCode } : {};
    // $abort is idempotent in effect (the Task ends cancelled either way): repeat after 5xx/transport errors
    const r = await this.call('Task.$abort', 'POST', `/Task/${taskId}/$abort`, { headers, idempotent: true }, taskId);
    if (r.status !== 204 && r.status !== 200) throw errorOfAnswer('Task.$abort', r, taskId);
    this.held.delete(taskId);
    this.received.delete(taskId);
  }

  // ------------------------------------------------------------------ UC 3.6: representative

  /** UC 3.6 (A_18781, A_18564): GET /Task/<id> of someone else's prescription with the token's AccessCode. */
  async retrieveAsRepresentative(token: ERezeptToken): Promise<HeldPrescription> {
    return this.getPrescription(token.prescriptionId, { accessCode: token.accessCode });
  }

  // ------------------------------------------------------------------ UC 3.3, 3.4, 3.8: messages

  /** UC 3.3: assigns prescriptions to a pharmacy (one DispReq per token) with an optional supply wish. */
  async sendToPharmacy(tokens: ERezeptToken | readonly ERezeptToken[], telematikId: string, payload?: DispReqPayload): Promise<ErpMessage[]> {
    const list = Array.isArray(tokens) ? (tokens as readonly ERezeptToken[]) : [tokens as ERezeptToken];
    if (list.length === 0) throw new FdvUsageError('sendToPharmacy: give at least one token');
    const out: ErpMessage[] = [];
    for (const token of list) out.push(await this.postCommunication(buildDispReq({ token, telematikId, ...(payload ? { payload } : {}) }), token));
    return out;
  }

  /** UC 3.3: sends a prescription (token) and a text to a representative (KVNR). */
  async sendToRepresentative(token: ERezeptToken, kvnr: string, text: string): Promise<ErpMessage> {
    return this.postCommunication(buildRepresentativeMessage({ token, kvnr, text }), token);
  }

  /**
   * UC 3.4: GET /Communication, all pages (the Fachdienst sets `received` when the recipient first
   * fetches a message). Tokens in messages addressed to this insured are kept (receivedTokens()).
   */
  async messages(q: { count?: number; maxPages?: number; sort?: 'sent' | '-sent' } = {}): Promise<Listing<ErpMessage>> {
    const p = new URLSearchParams();
    if (q.sort) p.append('_sort', q.sort);
    if (q.count !== undefined) p.append('_count', String(q.count));
    const query = p.toString();
    const listing = await this.pages('GET /Communication', `/Communication${query ? `?${query}` : ''}`, {}, q.maxPages);
    const items = listing.items.filter((r) => r.resourceType === 'Communication').map(readMessage);
    for (const m of items) if (m.token && m.recipient?.value === this.kvnr) this.received.set(m.token.prescriptionId, m.token);
    return { ...listing, items };
  }

  /** UC 3.8: DELETE /Communication/<id>; `warning` is the Warning header (the recipient already fetched it). */
  async deleteMessage(id: string): Promise<{ warning?: string }> {
    if (typeof id !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(id)) throw new FdvUsageError(`deleteMessage: ${JSON.stringify(id)} is not a resource id`);
    const r = await this.call('DELETE /Communication', 'DELETE', `/Communication/${id}`, { idempotent: true });
    if (r.status !== 204 && r.status !== 200) throw errorOfAnswer('DELETE /Communication', r);
    return r.headers.warning ? { warning: r.headers.warning } : {};
  }

  // ------------------------------------------------------------------ UC 3.5: access log

  /** UC 3.5 (A_18510, A_18871, A_18573): GET /AuditEvent with filters, all pages. */
  async auditEvents(q: AuditQuery = {}): Promise<Listing<AuditEntry>> {
    const query = auditSearchParams(q);
    const headers: Record<string, string> = q.language ? { 'Accept-Language': q.language } : {};
    const listing = await this.pages('GET /AuditEvent', `/AuditEvent${query ? `?${query}` : ''}`, headers, q.maxPages);
    return { ...listing, items: listing.items.filter((r) => r.resourceType === 'AuditEvent').map(readAuditEvent) };
  }

  // ------------------------------------------------------------------ dispensing information

  /** GET /MedicationDispense (optionally of one prescription): the dispensing information (A_19140/A_19141). */
  async medicationDispenses(prescriptionId?: string): Promise<Listing<FhirJson>> {
    if (prescriptionId !== undefined) assertPrescriptionId(prescriptionId);
    const target = prescriptionId ? `/MedicationDispense?identifier=${encodeURIComponent(`https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId|${prescriptionId}`)}` : '/MedicationDispense';
    const listing = await this.pages('GET /MedicationDispense', target, {});
    return { ...listing, items: listing.items.filter((r) => r.resourceType === 'MedicationDispense') };
  }

  /** Ends the IDP login the FdV opened itself (releases the card connection). */
  async close(): Promise<void> {
    if (this.ownsAuthn) await this.authn?.close().catch(() => undefined);
  }

  // ------------------------------------------------------------------ internals

  /**
   * POST /Communication. A representative (the token is not one of this insured's own prescriptions)
   * proves the right to pass it on with the AccessCode in `X-AccessCode` (A_20885-03); the owner does not.
   */
  private async postCommunication(resource: FhirResource, token: ERezeptToken): Promise<ErpMessage> {
    const prescriptionId = token.prescriptionId;
    const held = this.held.get(prescriptionId);
    const own = !!held && !held.asRepresentative;
    const body = serializeFhirJson(resource);
    const headers: Record<string, string> = own ? {} : { 'X-AccessCode': token.accessCode };
    const r = await this.call('POST /Communication', 'POST', '/Communication', { headers, body, idempotent: false }, prescriptionId);
    if (r.status !== 201 && r.status !== 200) throw errorOfAnswer('POST /Communication', r, prescriptionId);
    return readMessage(this.parse(r, 'POST /Communication', prescriptionId));
  }

  /** Follows `next` links (simulators/lib/fhir-paging.ts); a paging fault is an FdvError. */
  private async pages(operation: string, first: string, headers: Record<string, string>, maxPages = DEFAULT_MAX_PAGES): Promise<Listing<FhirJson>> {
    try {
      const r = await fetchAllPages(
        first,
        async (target) => {
          const a = await this.call(operation, 'GET', target, { headers, idempotent: true });
          if (a.status !== 200) throw errorOfAnswer(operation, a);
          return this.parse(a, operation);
        },
        maxPages,
      );
      return { items: r.resources, pages: r.pages, ...(r.total !== undefined ? { total: r.total } : {}) };
    } catch (e) {
      if (e instanceof PagingError) throw new FdvError(operation, 200, e.message, {}, { cause: e });
      throw e;
    }
  }

  private parse(r: Answer, operation: string, prescriptionId?: string): FhirResource {
    try {
      return parseFhir(r.text, r.contentType);
    } catch (e) {
      throw new FdvError(operation, r.status, `the answer is no FHIR resource: ${(e as Error).message}`, prescriptionId ? { prescriptionId } : {});
    }
  }

  /** One request under the production retry rules; outer VAU errors and transport errors become answers/FdvError 0. */
  private call(operation: string, method: string, target: string, o: { headers?: Record<string, string>; body?: string; idempotent: boolean }, prescriptionId?: string): Promise<Answer> {
    const headers: Record<string, string> = { Accept: FHIR_JSON, ...(o.body !== undefined ? { 'Content-Type': `${FHIR_JSON}; charset=utf-8` } : {}), ...(o.headers ?? {}) };
    const opts: VauRequestOptions = { headers, ...(o.body !== undefined ? { body: o.body } : {}) };
    return withErpRetry(
      async (): Promise<Answer> => {
        let res: VauResponse;
        try {
          res = await this.fachdienst.request(method, target, opts);
        } catch (e) {
          if (e instanceof VauClientError && e.kind === 'outer-status' && e.outerStatus) {
            return { status: e.outerStatus, headers: {}, text: e.outerBody ?? e.message, contentType: 'text/plain' };
          }
          if (e instanceof FdvLoginError) throw e;
          throw new FdvError(operation, 0, `Fachdienst not reachable: ${(e as Error).message}`, prescriptionId ? { prescriptionId } : {}, { cause: e });
        }
        return { status: res.status, headers: res.headers, text: res.text(), contentType: res.headers['content-type'], vauErrorCode: res.outer.headers['vau-error-code'] };
      },
      { idempotent: o.idempotent, policy: this.retry, isTransportError: (e) => e instanceof FdvError && e.status === 0 },
    );
  }
}
