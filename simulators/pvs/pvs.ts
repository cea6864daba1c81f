/**
 * The simulated PVS (Praxisverwaltungssystem): prescribes like a real PVS through the real
 * interfaces — Konnektor (SOAP) for the QES with the doctor's HBA, IDP for the practice's access
 * token (SMC-B through the Konnektor), Fachdienst through VAU (public API only). See docs/pvs.md.
 *
 *   const pvs = await Pvs.open({ env, practice: 'Praxis Dr. Hanna Ebert', doctor: 'Dr. Hanna Ebert',
 *                                konnektor: { context }, signatureMode: 'batch' });
 *   const [rx] = await pvs.prescribe([{ patient, coverage, medication }]);   // UC 2.1
 *   pvs.printDataMatrix(pvs.tokens.redeemable()); pvs.printPdf([rx.token])   // A_18614, A_18543
 *   await pvs.delete(rx.token.prescriptionId);                               // UC 2.5
 *   await pvs.close();
 *
 * Per prescription (UC 2.1): $create (once per bundle, A_18545) → PrescriptionID into the bundle
 * (A_18544) → validation (A_18612: invalid → KbvBundleError, nothing sent) → QES (single, batch or
 * comfort, A_18541) → guard (A_18613: only a CMS SignedData of the bundle by the HBA is sent) →
 * $activate → E-Rezept-Token kept while redeemable (A_18614, A_18616) → print (DataMatrix with up
 * to 3 tokens per code, A_18543/A_18516).
 */
import { loadPersona } from '../../cards/index';
import type { EgkPersona, HbaPersona, SmcbPersona } from '../../cards/persona';
import { KonnektorSmcbSigner } from '../authenticator/signers/konnektor-smcb';
import type { ClientSystemAuthn } from '../authenticator/client-wiring';
import type { Environment } from '../lib/config';
import { renderERezeptPdf, renderERezeptPng } from '../lib/datamatrix';
import { MAX_TOKENS_PER_CODE, buildPrescriptionId, isValidAccessCode, isValidPrescriptionId, type ERezeptToken } from '../lib/erezept-token';
import { withErpRetry, type ErpRetryPolicy } from '../lib/erp-retry';
import { parseFhir, serializeFhirXml, type FhirJson, type FhirResource } from '../lib/fhir';
import { fetchPkiTrust } from '../lib/idp-client';
import {
  assertValidKbvBundle,
  buildKbvBundle,
  checkPrescriptionInput,
  coverageFromEgk,
  organizationFromSmcb,
  patientFromEgk,
  prescriberFromHba,
  serializeKbvBundle,
  withPrescriptionId,
  type KbvCoverage,
  type KbvMedication,
  type KbvMultiplePrescription,
  type KbvOrganization,
  type KbvPatient,
  type KbvPrescriber,
  type KbvPrescriptionInput,
} from '../lib/kbv-bundle';
import { KonnektorClient, type KonnektorCallContext } from '../lib/konnektor-client';
import { VauClient, VauClientError } from '../lib/vau-client';
import { createPracticeAuthn } from './authn';
import { FachdienstError, PvsLoginError } from './errors';
import { assertSignedPrescription, locateHba, PrescriptionSigner, SIGNATURE_MODES, type HbaCard, type SignatureMode } from './signing';
import { TokenStore } from './token-store';
export type { FachdienstAnswer } from '../lib/fachdienst-answer';
import { outcomeTextsOf, warningTextsOf, type FachdienstAnswer } from '../lib/fachdienst-answer';

export const ERP_NS = {
  prescriptionId: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId',
  accessCode: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode',
  flowType: 'https://gematik.de/fhir/erp/CodeSystem/GEM_ERP_CS_FlowType',
} as const;

/** Environment variable with the default signature mode (single | batch | comfort). */
export const SIGNATURE_MODE_ENV = 'TI_HARNESS_PVS_SIGNATURE_MODE';
/** Default signature mode when neither the options nor the environment say (A_18541: configurable). */
export const DEFAULT_SIGNATURE_MODE: SignatureMode = 'batch';

export function defaultSignatureMode(source: NodeJS.ProcessEnv = process.env): SignatureMode {
  const v = source[SIGNATURE_MODE_ENV];
  if (v === undefined || v === '') return DEFAULT_SIGNATURE_MODE;
  if (!(SIGNATURE_MODES as readonly string[]).includes(v)) throw new TypeError(`${SIGNATURE_MODE_ENV}="${v}" is not one of ${SIGNATURE_MODES.join(', ')}`);
  return v as SignatureMode;
}

/** One prescription: who for and what; prescriber and practice come from the Pvs. */
export interface Prescription {
  /** The insured: an eGK persona name/object, or the patient data. */
  patient: string | EgkPersona | KbvPatient;
  /** Needed when `patient` is not a persona. */
  coverage?: KbvCoverage;
  medication: KbvMedication;
  quantity?: number;
  dosage?: string;
  substitutionAllowed?: boolean;
  /** Flow type (default 160 for GKV, 200 for PKV; 169/209 for a direct assignment). */
  flowType?: '160' | '169' | '200' | '209';
  /** Mehrfachverordnung: this prescription is one part prescription of an MVO (docs/pvs.md). */
  multiplePrescription?: KbvMultiplePrescription;
}

export interface PrescriptionResult {
  token: ERezeptToken;
  taskId: string;
  kvnr: string;
  /** The bundle as signed (XML). */
  bundle: Buffer;
  /** The QES (CMS) sent with $activate. */
  signature: Buffer;
  /** The Task as $activate answered it. */
  task: FhirResource;
}

export interface PvsOptions {
  env: Environment;
  /** The practice's SMC-B persona (name or object). */
  practice: string | SmcbPersona;
  /** The doctor's HBA persona (name or object). */
  doctor: string | HbaPersona;
  /** A KonnektorClient, or the call context (URL: env.services.konnektor.url; TLS trust: the PKI root). */
  konnektor: KonnektorClient | { context: KonnektorCallContext; url?: string; ca?: string };
  /** A_18541: single, batch or comfort (default: TI_HARNESS_PVS_SIGNATURE_MODE, else batch). */
  signatureMode?: SignatureMode;
  /** Prescriber data beyond the persona (LANR, job title). */
  prescriber?: Partial<KbvPrescriber>;
  /** Practice data beyond the persona (BSNR, phone). */
  organization?: Partial<KbvOrganization>;
  /** The Fachdienst client (default: VAU to env.services.fachdienst.url with tokens from createPracticeAuthn). */
  fachdienst?: VauClient;
  /** The practice's login (default: createPracticeAuthn with the SMC-B via the Konnektor). */
  authn?: ClientSystemAuthn;
  /** The practice's clock (authoredOn, Bundle.timestamp; default now). */
  clock?: () => Date;
  /** Retry rules of simulators/lib/erp-retry.ts (maxRetries, backoff, sleep for tests). */
  retry?: Partial<ErpRetryPolicy>;
  userAgent?: string;
}

function persona<T extends EgkPersona | HbaPersona | SmcbPersona>(p: string | T, type: T['type']): T {
  const out = typeof p === 'string' ? (loadPersona(p) as T) : p;
  if (out.type !== type) throw new TypeError(`persona "${out.name}" has an ${out.type}, expected ${type}`);
  return out;
}

export class Pvs {
  readonly tokens = new TokenStore();
  readonly signatureMode: SignatureMode;
  readonly practice: SmcbPersona;
  readonly doctor: HbaPersona;
  private readonly prescriber: KbvPrescriber;
  private readonly organization: KbvOrganization;
  private readonly retry: Partial<ErpRetryPolicy>;
  private readonly clock: () => Date;
  private hba?: HbaCard;
  private signer?: PrescriptionSigner;
  /** The Fachdienst's last answer: operation, HTTP status, OperationOutcome texts (undefined after a transport error). */
  lastAnswer?: FachdienstAnswer;
  /** The Fachdienst's answers to this PVS, oldest first (the last 50). */
  readonly answers: FachdienstAnswer[] = [];

  private constructor(
    opts: PvsOptions,
    readonly konnektor: KonnektorClient,
    readonly fachdienst: VauClient,
    private readonly owned: { konnektor: boolean; authn?: ClientSystemAuthn },
  ) {
    this.practice = persona<SmcbPersona>(opts.practice, 'SMC-B');
    this.doctor = persona<HbaPersona>(opts.doctor, 'HBA');
    this.signatureMode = opts.signatureMode ?? defaultSignatureMode();
    if (!SIGNATURE_MODES.includes(this.signatureMode)) throw new TypeError(`signatureMode must be one of ${SIGNATURE_MODES.join(', ')}, got ${String(this.signatureMode)}`);
    this.prescriber = { ...prescriberFromHba(this.doctor), ...(opts.prescriber ?? {}) };
    this.organization = { ...organizationFromSmcb(this.practice), ...(opts.organization ?? {}) };
    this.retry = opts.retry ?? {};
    this.clock = opts.clock ?? (() => new Date());
  }

  /** Sets up Konnektor client, login and Fachdienst client from the environment unless given. */
  static async open(opts: PvsOptions): Promise<Pvs> {
    const practice = persona<SmcbPersona>(opts.practice, 'SMC-B');
    let konnektor: KonnektorClient;
    let ownsKonnektor = false;
    if (opts.konnektor instanceof KonnektorClient) konnektor = opts.konnektor;
    else {
      const ca = opts.konnektor.ca ?? (await fetchPkiTrust(opts.env.services.pki.url)).rootPem;
      konnektor = new KonnektorClient({ url: opts.konnektor.url ?? opts.env.services.konnektor.url, ca, context: opts.konnektor.context });
      ownsKonnektor = true;
    }
    let authn = opts.authn;
    let ownsAuthn: ClientSystemAuthn | undefined;
    let fachdienst = opts.fachdienst;
    try {
      if (!fachdienst) {
        if (!authn) {
          authn = await createPracticeAuthn({ env: opts.env, signer: new KonnektorSmcbSigner({ konnektor, persona: practice.name }) });
          ownsAuthn = authn;
        }
        const tokens = authn.tokens;
        const trust = await fetchPkiTrust(opts.env.services.pki.url);
        fachdienst = new VauClient({
          fachdienstUrl: opts.env.services.fachdienst.url,
          trust,
          user: 'l',
          userAgent: opts.userAgent ?? 'ti-harness-pvs/1.0',
          accessToken: async () => {
            try {
              return await tokens.accessToken();
            } catch (e) {
              throw new PvsLoginError(`the practice's IDP login with the SMC-B failed: ${(e as Error).message}`, { cause: e });
            }
          },
        });
      }
    } catch (e) {
      await ownsAuthn?.close().catch(() => undefined);
      if (ownsKonnektor) await konnektor.close();
      throw e;
    }
    return new Pvs(opts, konnektor, fachdienst, { konnektor: ownsKonnektor, authn: ownsAuthn });
  }

  /** The bundle input of one prescription (prescriber, practice from the personas). */
  prescriptionInput(p: Prescription): KbvPrescriptionInput {
    let patient: KbvPatient;
    let coverage: KbvCoverage | undefined = p.coverage;
    if (typeof p.patient === 'string' || (p.patient as EgkPersona).type === 'eGK') {
      const egk = persona<EgkPersona>(p.patient as string | EgkPersona, 'eGK');
      patient = patientFromEgk(egk);
      coverage ??= coverageFromEgk(egk);
    } else patient = p.patient as KbvPatient;
    return {
      patient,
      coverage: coverage as KbvCoverage,
      prescriber: this.prescriber,
      organization: this.organization,
      medication: p.medication,
      ...(p.quantity !== undefined ? { quantity: p.quantity } : {}),
      ...(p.dosage !== undefined ? { dosage: p.dosage } : {}),
      ...(p.substitutionAllowed !== undefined ? { substitutionAllowed: p.substitutionAllowed } : {}),
      ...(p.multiplePrescription ? { multiplePrescription: p.multiplePrescription } : {}),
    };
  }

  /**
   * UC 2.1: creates, signs and activates the prescriptions. All data is checked before anything is
   * sent (A_18612); then per prescription $create, bundle with PrescriptionID, validation; the
   * bundles are signed together in the configured mode; then $activate per prescription.
   */
  async prescribe(prescriptions: Prescription[]): Promise<PrescriptionResult[]> {
    if (!Array.isArray(prescriptions) || prescriptions.length === 0) throw new TypeError('prescribe: give at least one prescription');
    const now = this.clock();
    const inputs = prescriptions.map((p) => this.prescriptionInput(p));
    for (const input of inputs) checkPrescriptionInput(input); // KbvBundleError before anything is sent
    const drafts = inputs.map((input) => buildKbvBundle(input, { now }));
    // The bundles must be valid apart from the PrescriptionID before a Task is created.
    const flows = prescriptions.map((p, i) => p.flowType ?? (inputs[i].coverage.type === 'PKV' ? '200' : '160'));
    for (const [i, d] of drafts.entries()) assertValidKbvBundle(withPrescriptionId(d, placeholderId(flows[i])));

    const created: Array<{ taskId: string; accessCode: string }> = [];
    for (const flow of flows) created.push(await this.createTask(flow));
    const bundles = drafts.map((d, i) => {
      const b = withPrescriptionId(d, created[i].taskId);
      assertValidKbvBundle(b);
      return b;
    });
    const documents = bundles.map(serializeKbvBundle);
    const hba = await this.hbaCard();
    const signatures = await (await this.prescriptionSigner()).sign(documents);

    const results: PrescriptionResult[] = [];
    for (const [i, { taskId, accessCode }] of created.entries()) {
      const task = await this.activateTask(taskId, accessCode, signatures[i], documents[i], hba.qesCertificate);
      const token: ERezeptToken = { prescriptionId: taskId, accessCode };
      this.tokens.put({ token, kvnr: inputs[i].patient.kvnr, status: 'ready', signedBundle: signatures[i], activatedAt: this.clock() });
      results.push({ token, taskId, kvnr: inputs[i].patient.kvnr, bundle: documents[i], signature: signatures[i], task });
    }
    return results;
  }

  /** UC 2.5: deletes a prescription ($abort with its AccessCode) and forgets its token. */
  async delete(prescriptionId: string): Promise<void> {
    const entry = this.tokens.get(prescriptionId);
    if (!entry) throw new TypeError(`delete: the PVS holds no token for ${prescriptionId}`);
    const r = await this.call('Task.$abort', `/Task/${prescriptionId}/$abort`, { 'X-AccessCode': entry.token.accessCode }, undefined, prescriptionId);
    if (r.status !== 204 && r.status !== 200) throw fachdienstError('Task.$abort', r, prescriptionId);
    this.tokens.remove(prescriptionId);
  }

  /** A_18543/A_18516: DataMatrix codes (PNG) for the tokens, at most 3 per code. */
  printDataMatrix(tokens: readonly ERezeptToken[]): Buffer[] {
    return chunks(tokens, MAX_TOKENS_PER_CODE).map((c) => renderERezeptPng(c));
  }

  /** The patient printouts (PDF), one sheet per code of at most 3 tokens. */
  printPdf(tokens: readonly ERezeptToken[]): Buffer[] {
    return chunks(tokens, MAX_TOKENS_PER_CODE).map((c) => renderERezeptPdf(c));
  }

  /** Ends the comfort session, the login and the connections the PVS opened itself. */
  async close(): Promise<void> {
    await this.signer?.close();
    await this.owned.authn?.close().catch(() => undefined);
    if (this.owned.konnektor) await this.konnektor.close();
  }

  // -------------------------------------------------------------------------

  private async hbaCard(): Promise<HbaCard> {
    this.hba ??= await locateHba(this.konnektor, this.doctor.iccsn);
    return this.hba;
  }

  private async prescriptionSigner(): Promise<PrescriptionSigner> {
    this.signer ??= new PrescriptionSigner(this.konnektor, await this.hbaCard(), this.signatureMode);
    return this.signer;
  }

  private async createTask(flowType: string): Promise<{ taskId: string; accessCode: string }> {
    const body = serializeFhirXml(
      { resourceType: 'Parameters', parameter: [{ name: 'workflowType', valueCoding: { system: ERP_NS.flowType, code: flowType } }] },
      { declaration: true },
    );
    const r = await this.call('Task.$create', '/Task/$create', {}, body);
    if (r.status !== 201) throw fachdienstError('Task.$create', r);
    const task = parseTask(r, 'Task.$create');
    const taskId = identifier(task, ERP_NS.prescriptionId);
    const accessCode = identifier(task, ERP_NS.accessCode);
    if (!taskId || !isValidPrescriptionId(taskId) || !accessCode || !isValidAccessCode(accessCode)) {
      throw new FachdienstError('Task.$create', r.status, 'the created Task carries no valid PrescriptionID and AccessCode');
    }
    return { taskId, accessCode };
  }

  private async activateTask(taskId: string, accessCode: string, cms: Buffer, bundle: Buffer, qes: Buffer): Promise<FhirResource> {
    assertSignedPrescription(cms, bundle, qes); // A_18613: nothing unsigned leaves the PVS
    const body = serializeFhirXml(
      { resourceType: 'Parameters', parameter: [{ name: 'ePrescription', resource: { resourceType: 'Binary', contentType: 'application/pkcs7-mime', data: cms.toString('base64') } }] },
      { declaration: true },
    );
    const r = await this.call('Task.$activate', `/Task/${taskId}/$activate`, { 'X-AccessCode': accessCode }, body, taskId);
    // 252 = activated with a warning (invalid LANR/ZANR check digit): a success; the warning stays in lastAnswer/answers
    if (r.status !== 200 && r.status !== ACTIVATED_WITH_WARNING) throw fachdienstError('Task.$activate', r, taskId);
    return parseTask(r, 'Task.$activate');
  }

  /**
   * One Fachdienst request under the production retry rules (simulators/lib/erp-retry.ts, the one
   * place): 408/429/503 are repeated for every operation; 500/502/504 and transport errors only
   * for $abort (idempotent: the Task ends deleted either way), never for $create/$activate.
   * An outer VAU error status counts like an inner one; transport errors become FachdienstError 0.
   */
  private async call(operation: FachdienstOperation, target: string, headers: Record<string, string>, body?: string, prescriptionId?: string): Promise<Answer> {
    this.lastAnswer = undefined;
    const answer = await this.callWithRetry(operation, target, headers, body, prescriptionId);
    const warnings = answer.outer ? [] : warningTextsOf(answer.headers.warning);
    this.lastAnswer = { operation, status: answer.status, ...outcomeOf(answer), ...(warnings.length ? { warnings } : {}), at: process.hrtime.bigint() };
    this.answers.push(this.lastAnswer);
    if (this.answers.length > 50) this.answers.shift();
    return answer;
  }

  private async callWithRetry(operation: FachdienstOperation, target: string, headers: Record<string, string>, body?: string, prescriptionId?: string): Promise<Answer> {
    return withErpRetry(
      async (): Promise<Answer> => {
        try {
          const res = await this.fachdienst.request('POST', target, { headers: { ...headers, ...(body ? { 'Content-Type': 'application/fhir+xml; charset=utf-8' } : {}), Accept: 'application/fhir+xml' }, body });
          return { status: res.status, headers: res.headers, text: res.text(), contentType: res.headers['content-type'], vauErrorCode: res.outer.headers['vau-error-code'] };
        } catch (e) {
          if (e instanceof VauClientError && e.kind === 'outer-status' && e.outerStatus) {
            return { status: e.outerStatus, headers: {}, text: e.outerBody ?? e.message, contentType: 'text/plain', outer: true };
          }
          if (e instanceof PvsLoginError) throw e;
          throw new FachdienstError(operation, 0, `Fachdienst not reachable: ${(e as Error).message}`, { prescriptionId }, { cause: e });
        }
      },
      { idempotent: operation === 'Task.$abort', policy: this.retry, isTransportError: (e) => e instanceof FachdienstError && e.status === 0 },
    );
  }
}

type FachdienstOperation = 'Task.$create' | 'Task.$activate' | 'Task.$abort';

/** $activate answered "accepted with warning" (production HttpStatus::OkWarnInvalidAnr: LANR/ZANR check digit wrong). */
const ACTIVATED_WITH_WARNING = 252;


interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  contentType?: string;
  vauErrorCode?: string;
  outer?: boolean;
}

/** A well-formed PrescriptionID of the right flow type, for the validation before $create only. */
function placeholderId(flow: string): string {
  return buildPrescriptionId(flow, 1);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function identifier(task: FhirResource, system: string): string | undefined {
  const ids = (task.identifier as FhirJson[] | undefined) ?? [];
  const v = ids.find((i) => i.system === system)?.value;
  return typeof v === 'string' ? v : undefined;
}

function parseTask(r: Answer, operation: string): FhirResource {
  let res: FhirResource;
  try {
    res = parseFhir(r.text, r.contentType);
  } catch (e) {
    throw new FachdienstError(operation, r.status, `the answer is no FHIR resource: ${(e as Error).message}`);
  }
  if (res.resourceType !== 'Task') throw new FachdienstError(operation, r.status, `expected a Task, got ${String(res.resourceType)}`);
  return res;
}

/** The OperationOutcome issue texts (details.text, else diagnostics) and diagnostics of an answer; empty for other bodies. */
function outcomeOf(r: Answer): { texts: string[]; diagnostics: string[] } {
  if (r.outer || !r.text) return { texts: [], diagnostics: [] };
  try {
    return outcomeTextsOf(parseFhir(r.text, r.contentType));
  } catch {
    return { texts: [], diagnostics: [] };
  }
}

/** The error of an answer: OperationOutcome text/diagnostics/code when there is one. */
function fachdienstError(operation: string, r: Answer, prescriptionId?: string): FachdienstError {
  let text = r.text.slice(0, 300) || `HTTP ${r.status}`;
  let diagnostics: string | undefined;
  let code: string | undefined;
  if (!r.outer) {
    try {
      const oo = parseFhir(r.text, r.contentType);
      if (oo.resourceType === 'OperationOutcome') {
        const issue = ((oo.issue as FhirJson[] | undefined) ?? [])[0];
        const details = issue?.details as FhirJson | undefined;
        text = (typeof details?.text === 'string' && details.text) || (typeof issue?.diagnostics === 'string' && issue.diagnostics) || text;
        diagnostics = typeof issue?.diagnostics === 'string' ? issue.diagnostics : undefined;
        code = typeof issue?.code === 'string' ? issue.code : undefined;
      }
    } catch {
      // not FHIR: keep the text
    }
  }
  return new FachdienstError(operation, r.status, text, {
    ...(diagnostics && diagnostics !== text ? { diagnostics } : {}),
    ...(code ? { code } : {}),
    ...(r.vauErrorCode ? { vauErrorCode: r.vauErrorCode } : {}),
    ...(prescriptionId ? { prescriptionId } : {}),
  });
}
