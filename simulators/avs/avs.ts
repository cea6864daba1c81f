/**
 * The simulated AVS (Apothekenverwaltungssystem): the pharmacy side of the E-Rezept (gemSysL_eRp
 * UC 4.1–4.5, 4.8), talking only through the TI's real interfaces:
 *   - the Konnektor (SOAP: VerifyDocument for the prescriber's QES and the receipt, SignDocument for
 *     the dispensing data set, GetCards for the card handles) via simulators/lib/konnektor-client.ts;
 *   - the IDP for the pharmacy's access token (SMC-B through the Konnektor; simulators/avs/authn.ts);
 *   - the E-Rezept-Fachdienst through the VAU (simulators/lib/vau-client.ts) with gematik's public
 *     API: POST /Task/<id>/$accept?ac=, $reject?secret=, $dispense?secret=, $close?secret=,
 *     $abort?secret=, GET /Task/<id>?secret=.
 *
 * Requirements: A_18548 (scan DataMatrix codes with one or several tokens), A_18791 (keep the
 * AccessCode), A_18553 (keep the Secret), A_18551/A_18552 (verify the QES through the Konnektor; a
 * failed or impossible check gives a warning, the prescription is still shown), A_19125 (fetch the
 * receipt again), A_18515 (UC 4.5: sign the dispensing data set, QES with the HBA or advanced
 * signature with the SMC-B OSIG key), A_18747 (a refused status change names the current status).
 * Details: docs/avs.md.
 */
import { createHash } from 'node:crypto';
import { loadPersona } from '../../cards/index';
import type { HbaPersona, SmcbPersona } from '../../cards/persona';
import { KonnektorSmcbSigner } from '../authenticator/signers/konnektor-smcb';
import type { ClientSystemAuthn } from '../authenticator/client-wiring';
import { parseSignedData } from '../lib/cms';
import type { Environment } from '../lib/config';
import { scanERezeptPng } from '../lib/datamatrix';
import { withErpRetry, type ErpRetryPolicy } from '../lib/erp-retry';
import { assertAccessCode, assertPrescriptionId, type ERezeptToken } from '../lib/erezept-token';
import { parseFhirXml, serializeFhirXml, type FhirJson, type FhirResource } from '../lib/fhir';
import { fetchPkiTrust, type IdpTrust } from '../lib/idp-client';
import { KonnektorClient, KonnektorClientError, KonnektorFault, type KonnektorClientOptions, type VerifyDocumentResult } from '../lib/konnektor-client';
import { buildDispensation, dispensationParameters, type Dispensation, type DispensedItem } from '../lib/medication-dispense';
import { VauClient, VauClientError, type VauResponse } from '../lib/vau-client';
import { createPracticeAuthn } from './authn';
import { AvsMessages } from './messages';
import { importTokenFile } from './token-import';
export type { FachdienstAnswer } from '../lib/fachdienst-answer';
import { outcomeTextsOf, type FachdienstAnswer } from '../lib/fachdienst-answer';
import { fhirBodyOf } from '../lib/fachdienst-answer';

export const AVS_USER_AGENT = 'ti-harness-avs/1.0';

const NS_SECRET = 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_Secret';
const NS_ACCESS_CODE = 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode';
const NS_PRESCRIPTION_ID = 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId';
const FHIR_XML = 'application/fhir+xml';

/** Task.status values (TAB_SYSLERP_006 in FHIR terms). */
export type TaskStatus = 'draft' | 'ready' | 'in-progress' | 'completed' | 'cancelled';
const TASK_STATUSES: readonly TaskStatus[] = ['draft', 'ready', 'in-progress', 'completed', 'cancelled'];

/** Result of a signature check through the Konnektor (A_18551/A_18552). */
export type SignatureCheck =
  | { ok: true; highLevelResult: 'VALID'; signingTime?: Date }
  | {
      ok: false;
      /** 'invalid': Konnektor says INVALID; 'inconclusive': INCONCLUSIVE; 'not-possible': the check could not be done. */
      warning: 'invalid' | 'inconclusive' | 'not-possible';
      highLevelResult?: string;
      /** Text for the user (German, as the AVS shows it) and the technical reason. */
      message: string;
      reason: string;
    };

/** A prescription the pharmacy holds. */
export interface PharmacyTask {
  taskId: string;
  /** From the E-Rezept-Token (A_18791). */
  accessCode: string;
  /** From $accept (A_18553); removed after $reject/$abort. */
  secret?: string;
  /** Last status the Fachdienst reported (or this AVS caused). */
  status?: TaskStatus;
  task?: FhirJson;
  /** The signed prescription (CMS) as $accept returned it. */
  signedPrescription?: Buffer;
  /** The KBV bundle from the CMS content, parsed. */
  prescription?: FhirResource;
  signatureCheck?: SignatureCheck;
  /** The dispensing data last sent with $dispense or $close. */
  dispensation?: DispensedItem[];
  receipts: Receipt[];
}

export interface AcceptedPrescription {
  taskId: string;
  accessCode: string;
  secret: string;
  task: FhirJson;
  signedPrescription: Buffer;
  /** Undefined when the CMS carries no readable KBV bundle (then signatureCheck is a warning). */
  prescription?: FhirResource;
  signatureCheck: SignatureCheck;
}

export interface Receipt {
  /** The receipt Bundle (GEM_ERP_PR_Bundle, type document). */
  bundle: FhirJson;
  /** Bundle.signature.data: the Fachdienst's CAdES-BES (C.FD.SIG). */
  signature?: Buffer;
  signatureCheck: SignatureCheck;
  /** Bundle.identifier = the task id and the digest = SHA-256 of the prescription the pharmacy received. */
  referencesPrescription: boolean;
  problems: string[];
}

export interface SignedDispensation {
  mode: 'qes-hba' | 'osig-smcb';
  /** The signed document: the dispensing data set as XML (Parameters of $close/$dispense). */
  document: Buffer;
  /** CAdES enveloping signature from the Konnektor. */
  cms: Buffer;
  signerCertificate?: Buffer;
}

/** The Fachdienst refused an operation: status, its OperationOutcome text and the current task status (A_18747). */
export class FachdienstRefusal extends Error {
  override name = 'FachdienstRefusal';
  constructor(
    readonly operation: string,
    readonly status: number,
    /** OperationOutcome issue texts (details.text, else diagnostics). */
    readonly texts: string[],
    /** The status named in the text, when it names one. */
    readonly currentStatus: TaskStatus | undefined,
    readonly outcome: FhirJson | undefined,
  ) {
    super(`${operation}: the E-Rezept-Fachdienst answered ${status}${texts.length ? ` "${texts.join('; ')}"` : ''}${currentStatus ? ` (current status: ${currentStatus})` : ''}`);
  }
  /** The hint for the pharmacist (A_18747). */
  get hint(): string {
    return this.currentStatus ? `Statuswechsel abgelehnt, aktueller Status des E-Rezepts: ${this.currentStatus}` : `Statuswechsel abgelehnt: ${this.texts.join('; ') || `HTTP ${this.status}`}`;
  }
}


/** Bad use of the AVS (unknown task, missing secret, no pharmacist card). */
export class AvsError extends Error {
  override name = 'AvsError';
}

/** What the AVS needs of a Fachdienst client: one FHIR request through the VAU (VauClient). */
export type FachdienstTransport = Pick<VauClient, 'request'>;

export interface AvsOptions {
  env: Environment;
  /** The pharmacy's SMC-B persona (cards/personas/smcb). */
  pharmacy: string;
  /** The pharmacist's HBA persona, for QES of the dispensing data set. */
  pharmacist?: string;
  /** A Konnektor client in the pharmacy's call context, or its options (then closed by close()). */
  konnektor: KonnektorClient | KonnektorClientOptions;
  /** The Fachdienst client (default: VauClient to env.services.fachdienst.url with the IDP token). */
  fachdienst?: FachdienstTransport;
  /** The IDP login (default: createPracticeAuthn with the SMC-B through the Konnektor). */
  authn?: ClientSystemAuthn;
  /** Trust anchors (default: fetched from env.services.pki.url). */
  trust?: IdpTrust;
  /** Retry rules (simulators/lib/erp-retry.ts). */
  retry?: Partial<ErpRetryPolicy>;
  /** Clock in ms (dates of the dispensation). */
  now?: () => number;
  userAgent?: string;
}

/** The current status named by an OperationOutcome text of the Fachdienst (A_18522 texts), if any. */
export function statusFromOutcomeText(text: string): TaskStatus | undefined {
  // the last status named after "is:", "but is", "in status", "invalid status" is the current one
  // ("Task not in status draft but in status ready")
  const named = [...text.matchAll(/(?:but is|is|in status|invalid status)[:\s]+(draft|ready|in-progress|completed|cancelled)\b/gi)].pop();
  if (named) return named[1].toLowerCase() as TaskStatus;
  if (/\b(deleted|cancelled)\b/i.test(text)) return 'cancelled';
  const any = TASK_STATUSES.find((s) => new RegExp(`\\b${s}\\b`).test(text));
  return any;
}

function outcomeTexts(outcome: FhirJson | undefined): string[] {
  return outcomeTextsOf(outcome).texts;
}

function parseBody(r: VauResponse): FhirResource | undefined {
  return fhirBodyOf(r);
}

function identifierValue(res: FhirJson, system: string): string | undefined {
  const ids = (res.identifier as FhirJson[] | FhirJson | undefined) ?? [];
  return (Array.isArray(ids) ? ids : [ids]).find((i) => i.system === system)?.value as string | undefined;
}

function entries(bundle: FhirJson): FhirJson[] {
  return ((bundle.entry as FhirJson[] | undefined) ?? []).map((e) => e.resource as FhirJson).filter((r) => !!r && typeof r === 'object');
}

/** Maps a Konnektor VerifyDocument answer (or its failure) to the AVS's check result. */
export function signatureCheckOf(result: VerifyDocumentResult | Error): SignatureCheck {
  if (result instanceof Error) {
    const reason = result instanceof KonnektorFault ? `Konnektor fault ${result.code ?? ''} ${result.errorText ?? result.message}`.trim() : result.message;
    return { ok: false, warning: 'not-possible', message: 'Die Signaturprüfung war technisch nicht möglich.', reason };
  }
  const high = result.highLevelResult;
  if (high === 'VALID') {
    const t = result.signers[0]?.signingTime;
    return t ? { ok: true, highLevelResult: 'VALID', signingTime: t } : { ok: true, highLevelResult: 'VALID' };
  }
  const reason = [high, ...result.signers.map((s) => s.message ?? `${s.resultMajor} ${s.resultMinor}`)].filter(Boolean).join(': ');
  if (high === 'INVALID') return { ok: false, warning: 'invalid', highLevelResult: high, message: 'Die Signatur ist ungültig.', reason };
  if (high === 'INCONCLUSIVE') return { ok: false, warning: 'inconclusive', highLevelResult: high, message: 'Die Signatur konnte nicht abschließend geprüft werden.', reason };
  return { ok: false, warning: 'not-possible', highLevelResult: high, message: 'Die Signaturprüfung war technisch nicht möglich.', reason: `unknown HighLevelResult ${String(high)}` };
}

export class Avs {
  readonly pharmacy: SmcbPersona;
  readonly pharmacist?: HbaPersona;
  readonly konnektor: KonnektorClient;
  readonly fachdienst: FachdienstTransport;
  readonly authn?: ClientSystemAuthn;
  private readonly tasks = new Map<string, PharmacyTask>();
  /** The Fachdienst's last answer (undefined before the first call or after a transport error). */
  lastAnswer?: FachdienstAnswer;
  /** The Fachdienst's answers to this AVS, oldest first (the last 50). */
  readonly answers: FachdienstAnswer[] = [];
  private readonly ownsKonnektor: boolean;
  private readonly ownsAuthn: boolean;
  private readonly retry?: Partial<ErpRetryPolicy>;
  private readonly now: () => number;
  private messageBox?: AvsMessages;

  /** UC 4.6, 4.7, 4.9: receive tokens by message, reply, delete (simulators/avs/messages.ts). */
  get messages(): AvsMessages {
    return (this.messageBox ??= new AvsMessages(this, this.retry));
  }

  private constructor(p: {
    pharmacy: SmcbPersona;
    pharmacist?: HbaPersona;
    konnektor: KonnektorClient;
    ownsKonnektor: boolean;
    fachdienst: FachdienstTransport;
    authn?: ClientSystemAuthn;
    ownsAuthn: boolean;
    retry?: Partial<ErpRetryPolicy>;
    now: () => number;
  }) {
    this.pharmacy = p.pharmacy;
    this.pharmacist = p.pharmacist;
    this.konnektor = p.konnektor;
    this.ownsKonnektor = p.ownsKonnektor;
    this.fachdienst = p.fachdienst;
    this.authn = p.authn;
    this.ownsAuthn = p.ownsAuthn;
    this.retry = p.retry;
    this.now = p.now;
  }

  /** Builds the AVS: personas, Konnektor client, IDP login (SMC-B via the Konnektor), VAU client. */
  static async create(opts: AvsOptions): Promise<Avs> {
    const pharmacy = loadPersona(opts.pharmacy);
    if (pharmacy.type !== 'SMC-B') throw new TypeError(`Avs: persona "${opts.pharmacy}" has an ${pharmacy.type}, not an SMC-B`);
    if (!pharmacy.telematikId) throw new TypeError(`Avs: SMC-B persona "${pharmacy.name}" has no Telematik-ID`);
    let pharmacist: HbaPersona | undefined;
    if (opts.pharmacist !== undefined) {
      const p = loadPersona(opts.pharmacist);
      if (p.type !== 'HBA') throw new TypeError(`Avs: persona "${opts.pharmacist}" has an ${p.type}, not an HBA`);
      pharmacist = p;
    }
    const ownsKonnektor = !(opts.konnektor instanceof KonnektorClient);
    const konnektor = opts.konnektor instanceof KonnektorClient ? opts.konnektor : new KonnektorClient(opts.konnektor);
    let authn = opts.authn;
    let ownsAuthn = false;
    try {
      let fachdienst = opts.fachdienst;
      if (!fachdienst) {
        const trust = opts.trust ?? (await fetchPkiTrust(opts.env.services.pki.url));
        if (!authn) {
          authn = await createPracticeAuthn({ env: opts.env, trust, signer: new KonnektorSmcbSigner({ konnektor, persona: pharmacy.name }) });
          ownsAuthn = true;
        }
        const tokens = authn.tokens;
        fachdienst = new VauClient({
          fachdienstUrl: opts.env.services.fachdienst.url,
          trust,
          accessToken: () => tokens.accessToken(),
          user: 'l',
          userAgent: opts.userAgent ?? AVS_USER_AGENT,
          clock: opts.now,
        });
      }
      return new Avs({ pharmacy, pharmacist, konnektor, ownsKonnektor, fachdienst, authn, ownsAuthn, retry: opts.retry, now: opts.now ?? Date.now });
    } catch (e) {
      if (ownsAuthn) await authn?.close().catch(() => undefined);
      if (ownsKonnektor) await konnektor.close().catch(() => undefined);
      throw e;
    }
  }

  /** The prescriptions the pharmacy holds (a copy). */
  list(): PharmacyTask[] {
    return [...this.tasks.values()].map((t) => ({ ...t, receipts: [...t.receipts] }));
  }

  get(taskId: string): PharmacyTask | undefined {
    const t = this.tasks.get(taskId);
    return t && { ...t, receipts: [...t.receipts] };
  }

  // ------------------------------------------------------------------ UC 4.1: scan, accept, verify

  /** A_18548: reads the E-Rezept-Token(s) of a DataMatrix code (PNG) and keeps their AccessCodes (A_18791). */
  scan(png: Buffer): ERezeptToken[] {
    const tokens = scanERezeptPng(png);
    for (const t of tokens) this.remember(t);
    return tokens;
  }

  /** A_18549: imports the token file of a third-party app (token-import.ts); nothing on a refused file. */
  importTokens(file: string | Buffer): ERezeptToken[] {
    return importTokenFile(this, file);
  }

  /** Keeps a token received another way (e.g. by message or typed in). */
  remember(token: ERezeptToken): void {
    assertPrescriptionId(token.prescriptionId);
    assertAccessCode(token.accessCode);
    const known = this.tasks.get(token.prescriptionId);
    if (known) known.accessCode = token.accessCode;
    else this.tasks.set(token.prescriptionId, { taskId: token.prescriptionId, accessCode: token.accessCode, receipts: [] });
  }

  /**
   * $accept with the AccessCode; keeps the Secret (A_18553); verifies the prescriber's QES through
   * the Konnektor (A_18551): anything but VALID, or a failed check, is a warning in `signatureCheck`
   * — the prescription is still returned for display (A_18552).
   */
  async accept(token: ERezeptToken | string): Promise<AcceptedPrescription> {
    if (typeof token !== 'string') this.remember(token);
    const rec = this.record(typeof token === 'string' ? token : token.prescriptionId);
    const r = await this.call('$accept', 'POST', `/Task/${rec.taskId}/$accept?ac=${rec.accessCode}`, { idempotent: false });
    const bundle = this.expect(r, '$accept', [200]);
    if (!bundle || bundle.resourceType !== 'Bundle') throw new AvsError('$accept: the answer is no Bundle');
    const task = entries(bundle).find((x) => x.resourceType === 'Task');
    const binary = entries(bundle).find((x) => x.resourceType === 'Binary');
    if (!task || !binary || typeof binary.data !== 'string') throw new AvsError('$accept: the Bundle lacks the Task or the signed prescription (Binary)');
    const secret = identifierValue(task, NS_SECRET);
    if (!secret) throw new AvsError('$accept: the Task carries no Secret');
    rec.secret = secret;
    rec.task = task;
    rec.status = (task.status as TaskStatus | undefined) ?? 'in-progress';
    const signedPrescription = Buffer.from(binary.data, 'base64');
    rec.signedPrescription = signedPrescription;
    let check = await this.verifyThroughKonnektor(signedPrescription);
    let prescription: FhirResource | undefined;
    try {
      const content = parseSignedData(signedPrescription).content;
      if (!content) throw new Error('the CMS carries no content (detached)');
      prescription = parseFhirXml(content.toString('utf8'));
    } catch (e) {
      if (check.ok) check = { ok: false, warning: 'not-possible', message: 'Das E-Rezept konnte nicht gelesen werden.', reason: (e as Error).message };
    }
    rec.prescription = prescription;
    rec.signatureCheck = check;
    return { taskId: rec.taskId, accessCode: rec.accessCode, secret, task, signedPrescription, ...(prescription ? { prescription } : {}), signatureCheck: check };
  }

  // ------------------------------------------------------------------ UC 4.4, 4.3: return, delete

  /** $reject: the prescription goes back to the Fachdienst (status ready); the Secret is forgotten. */
  async reject(taskId: string): Promise<void> {
    const rec = this.withSecret(taskId, '$reject');
    const r = await this.call('$reject', 'POST', `/Task/${rec.taskId}/$reject?secret=${rec.secret}`, { idempotent: false });
    this.expect(r, '$reject', [200, 204]);
    const kept: PharmacyTask = rec;
    delete kept.secret;
    kept.status = 'ready';
  }

  /** $abort by the pharmacy (UC 4.4, in-progress only): the Fachdienst deletes the prescription. */
  async abort(taskId: string): Promise<void> {
    const rec = this.withSecret(taskId, '$abort');
    const r = await this.call('$abort', 'POST', `/Task/${rec.taskId}/$abort?secret=${rec.secret}`, { idempotent: false });
    this.expect(r, '$abort', [200, 204]);
    this.tasks.delete(rec.taskId);
  }

  // ------------------------------------------------------------------ UC 4.2/4.3: dispense, close, receipt

  /** The dispensing data set for a task (validated against the workflow profiles). */
  buildDispensation(taskId: string, dispensation: Dispensation = {}): DispensedItem[] {
    const rec = this.record(taskId);
    if (!rec.prescription) throw new AvsError(`task ${taskId}: no readable prescription (accept it first)`);
    return buildDispensation({ prescription: rec.prescription, telematikId: this.pharmacy.telematikId as string, prescriptionId: rec.taskId, now: this.now }, dispensation);
  }

  /** $dispense: provides the dispensing information early (status stays in-progress). */
  async dispense(taskId: string, dispensation: Dispensation = {}): Promise<DispensedItem[]> {
    const rec = this.withSecret(taskId, '$dispense');
    const items = this.buildDispensation(taskId, dispensation);
    const body = serializeFhirXml(dispensationParameters(items, 'dispense'), { declaration: true });
    const r = await this.call('$dispense', 'POST', `/Task/${rec.taskId}/$dispense?secret=${rec.secret}`, { idempotent: false, body });
    this.expect(r, '$dispense', [200]);
    rec.dispensation = items;
    return items;
  }

  /** $close with the MedicationDispense(s): the receipt, its signature verified through the Konnektor. */
  async close(taskId: string, dispensation: Dispensation = {}): Promise<Receipt> {
    const rec = this.withSecret(taskId, '$close');
    const items = this.buildDispensation(taskId, dispensation);
    const body = serializeFhirXml(dispensationParameters(items, 'close'), { declaration: true });
    const r = await this.call('$close', 'POST', `/Task/${rec.taskId}/$close?secret=${rec.secret}`, { idempotent: false, body });
    const bundle = this.expect(r, '$close', [200]);
    rec.dispensation = items;
    rec.status = 'completed';
    const receipt = await this.checkReceipt(rec, bundle, '$close');
    rec.receipts.push(receipt);
    return receipt;
  }

  /** A_19125: GET /Task/<id>?secret= — the receipt again (checked like the first one). */
  async receipt(taskId: string): Promise<Receipt> {
    const rec = this.withSecret(taskId, 'receipt');
    const r = await this.call('GET Task', 'GET', `/Task/${rec.taskId}?secret=${rec.secret}`, { idempotent: true });
    const bundle = this.expect(r, 'GET Task', [200]);
    const task = bundle && entries(bundle).find((x) => x.resourceType === 'Task');
    if (task?.status) rec.status = task.status as TaskStatus;
    const receipt = await this.checkReceipt(rec, bundle, 'GET Task');
    rec.receipts.push(receipt);
    return receipt;
  }

  /**
   * $close without a body: the Fachdienst closes with the dispensing information provided earlier by
   * $dispense (production answers 403 "Medication dispense does not exist." when there is none).
   */
  async closeWithProvidedDispensation(taskId: string): Promise<Receipt> {
    const rec = this.withSecret(taskId, '$close');
    const r = await this.call('$close', 'POST', `/Task/${rec.taskId}/$close?secret=${rec.secret}`, { idempotent: false });
    const bundle = this.expect(r, '$close', [200]);
    rec.status = 'completed';
    const receipt = await this.checkReceipt(rec, bundle, '$close');
    rec.receipts.push(receipt);
    return receipt;
  }

  /**
   * Secret recovery after data loss (gemSpec_FD_eRp A_24177/A_24179): GET /Task/<id>?ac=<AccessCode> by the
   * pharmacy that accepted the task returns the Task with its Secret and the prescription again; the AVS
   * keeps both as after $accept.
   */
  async recover(taskId: string): Promise<AcceptedPrescription> {
    const rec = this.record(taskId);
    const r = await this.call('GET Task', 'GET', `/Task/${rec.taskId}?ac=${rec.accessCode}`, { idempotent: true });
    const bundle = this.expect(r, 'GET Task', [200]);
    if (!bundle || bundle.resourceType !== 'Bundle') throw new AvsError('GET Task?ac: the answer is no Bundle');
    const task = entries(bundle).find((x) => x.resourceType === 'Task');
    const binary = entries(bundle).find((x) => x.resourceType === 'Binary');
    if (!task || !binary || typeof binary.data !== 'string') throw new AvsError('GET Task?ac: the Bundle lacks the Task or the signed prescription (Binary)');
    const secret = identifierValue(task, NS_SECRET);
    if (!secret) throw new AvsError('GET Task?ac: the Task carries no Secret');
    rec.secret = secret;
    rec.task = task;
    rec.status = (task.status as TaskStatus | undefined) ?? 'in-progress';
    const signedPrescription = Buffer.from(binary.data, 'base64');
    rec.signedPrescription = signedPrescription;
    const check = await this.verifyThroughKonnektor(signedPrescription);
    const content = safeContent(signedPrescription);
    const prescription = content ? parseFhirXml(content.toString('utf8')) : undefined;
    rec.prescription = prescription;
    rec.signatureCheck = check;
    return { taskId: rec.taskId, accessCode: rec.accessCode, secret, task, signedPrescription, ...(prescription ? { prescription } : {}), signatureCheck: check };
  }

  /** Forgets the Secret and the prescription of a task, as after a crash of the AVS (data loss); the AccessCode stays. */
  forgetAcceptance(taskId: string): void {
    const rec = this.record(taskId);
    delete rec.secret;
    delete rec.signedPrescription;
    delete rec.prescription;
    delete rec.task;
  }

  /**
   * $dispense or $close with a dispensing data set built from the given prescription bundle and the given
   * Secret (or none) — independent of what the AVS holds: what a faulty AVS or a pharmacist re-entering
   * a forgotten E-Rezept would send, for checking the Fachdienst's refusals (e.g. 403 "No or invalid
   * secret provided for Task" without Secret, 410 after deletion).
   */
  async sendDispensation(operation: '$dispense' | '$close', taskId: string, prescription: FhirResource, secret?: string): Promise<void> {
    assertPrescriptionId(taskId);
    const items = buildDispensation({ prescription, telematikId: this.pharmacy.telematikId as string, prescriptionId: taskId, now: this.now }, {});
    const body = serializeFhirXml(dispensationParameters(items, operation === '$close' ? 'close' : 'dispense'), { declaration: true });
    const query = secret !== undefined ? `?secret=${encodeURIComponent(secret)}` : '';
    const r = await this.call(operation, 'POST', `/Task/${taskId}/${operation}${query}`, { idempotent: false, body });
    this.expect(r, operation, [200]);
  }

  // ------------------------------------------------------------------ UC 4.5: sign the dispensing data set

  /**
   * A_18515: signs the dispensing data set through the Konnektor — 'qes-hba': QES with the
   * pharmacist's HBA (dispensing with a change per § 17 (5) ApoBetrO); 'osig-smcb': advanced
   * signature with the pharmacy's SMC-B (OSIG key). The document is the data set last sent with
   * $dispense/$close, or built from the prescription now.
   */
  async signDispensation(taskId: string, mode: 'qes-hba' | 'osig-smcb', dispensation?: Dispensation): Promise<SignedDispensation> {
    const rec = this.record(taskId);
    const items = dispensation || !rec.dispensation ? this.buildDispensation(taskId, dispensation) : rec.dispensation;
    const document = Buffer.from(serializeFhirXml(dispensationParameters(items, 'close'), { declaration: true }), 'utf8');
    const iccsn = mode === 'qes-hba' ? this.pharmacist?.iccsn : this.pharmacy.iccsn;
    if (!iccsn) throw new AvsError('signDispensation qes-hba: the AVS has no pharmacist HBA persona');
    const handle = await this.cardHandle(mode === 'qes-hba' ? 'HBA' : 'SMC-B', iccsn);
    const [signed] = await this.konnektor.signDocument(handle, [{ content: document, mimeType: 'application/fhir+xml', shortText: 'Dispensierdatensatz' }], { includeEContent: true, includeRevocationInfo: true });
    if (!signed?.signature || signed.result !== 'OK') {
      throw new AvsError(`signDispensation: the Konnektor returned no signature (${signed?.result ?? 'no answer'}${signed?.trace.length ? `: ${JSON.stringify(signed.trace)}` : ''})`);
    }
    const parsed = parseSignedData(signed.signature);
    return { mode, document, cms: signed.signature, ...(parsed.signers[0]?.certificate ? { signerCertificate: parsed.signers[0].certificate } : {}) };
  }

  /** Releases the Konnektor client and the IDP login when the AVS made them. */
  async shutdown(): Promise<void> {
    if (this.ownsAuthn) await this.authn?.close().catch(() => undefined);
    if (this.ownsKonnektor) await this.konnektor.close().catch(() => undefined);
  }

  // ------------------------------------------------------------------ internals

  private record(taskId: string): PharmacyTask {
    const rec = this.tasks.get(taskId);
    if (!rec) throw new AvsError(`task ${taskId} is not known to this AVS (scan its E-Rezept-Token first)`);
    return rec;
  }

  private withSecret(taskId: string, op: string): PharmacyTask & { secret: string } {
    const rec = this.record(taskId);
    if (!rec.secret) throw new AvsError(`${op}: no Secret for task ${taskId} (accept it first)`);
    return rec as PharmacyTask & { secret: string };
  }

  /** Sets the Secret by hand (e.g. to test a wrong one against the Fachdienst). */
  overrideSecret(taskId: string, secret: string): void {
    this.record(taskId).secret = secret;
  }

  private async call(operation: string, method: string, target: string, o: { idempotent: boolean; body?: string }): Promise<VauResponse> {
    const headers: Record<string, string> = { Accept: FHIR_XML, ...(o.body !== undefined ? { 'Content-Type': `${FHIR_XML}; charset=utf-8` } : {}) };
    this.lastAnswer = undefined;
    const r = await withErpRetry(() => this.fachdienst.request(method, target, { headers, ...(o.body !== undefined ? { body: o.body } : {}) }), {
      idempotent: o.idempotent,
      policy: this.retry,
      isTransportError: (e) => e instanceof VauClientError && e.kind === 'transport',
    });
    const body = parseBody(r);
    this.lastAnswer = { operation, status: r.status, texts: outcomeTexts(body), diagnostics: outcomeTextsOf(body).diagnostics, at: process.hrtime.bigint() };
    this.answers.push(this.lastAnswer);
    if (this.answers.length > 50) this.answers.shift();
    return r;
  }

  /** The parsed answer when its status is expected; else a FachdienstRefusal naming the current status (A_18747). */
  private expect(r: VauResponse, operation: string, ok: number[]): FhirResource | undefined {
    const body = parseBody(r);
    if (ok.includes(r.status)) return body;
    const texts = outcomeTexts(body);
    const current = texts.map(statusFromOutcomeText).find((s) => s !== undefined);
    throw new FachdienstRefusal(operation, r.status, texts, current, body);
  }

  private async verifyThroughKonnektor(cms: Buffer): Promise<SignatureCheck> {
    try {
      return signatureCheckOf(await this.konnektor.verifyDocument(cms));
    } catch (e) {
      if (e instanceof KonnektorFault || e instanceof KonnektorClientError || e instanceof Error) return signatureCheckOf(e);
      return signatureCheckOf(new Error(String(e)));
    }
  }

  private async checkReceipt(rec: PharmacyTask, answer: FhirJson | undefined, operation: string): Promise<Receipt> {
    if (!answer || answer.resourceType !== 'Bundle') throw new AvsError(`${operation}: the answer is no Bundle`);
    const bundle = answer.type === 'document' ? answer : entries(answer).find((x) => x.resourceType === 'Bundle' && x.type === 'document');
    if (!bundle) throw new AvsError(`${operation}: the answer holds no receipt Bundle`);
    const problems: string[] = [];
    if (identifierValue(bundle, NS_PRESCRIPTION_ID) !== rec.taskId) problems.push(`receipt identifier ${String(identifierValue(bundle, NS_PRESCRIPTION_ID))} is not the task id ${rec.taskId}`);
    const digest = entries(bundle).find((x) => x.resourceType === 'Binary');
    const content = rec.signedPrescription ? safeContent(rec.signedPrescription) : undefined;
    if (!digest || typeof digest.data !== 'string') problems.push('the receipt carries no digest of the prescription');
    else if (!content) problems.push('the prescription received with $accept is not available to compare the digest');
    else if (!Buffer.from(digest.data, 'base64').equals(createHash('sha256').update(content).digest())) problems.push('the receipt digest does not match the prescription received with $accept');
    const sigData = (bundle.signature as FhirJson | undefined)?.data;
    let signature: Buffer | undefined;
    let check: SignatureCheck;
    if (typeof sigData !== 'string') {
      check = { ok: false, warning: 'not-possible', message: 'Die Quittung ist nicht signiert.', reason: 'Bundle.signature.data missing' };
    } else {
      signature = Buffer.from(sigData, 'base64');
      check = await this.verifyThroughKonnektor(signature);
      const signed = safeContent(signature);
      if (signed) {
        try {
          const inner = parseFhirXml(signed.toString('utf8'));
          if (identifierValue(inner, NS_PRESCRIPTION_ID) !== rec.taskId) problems.push('the signed receipt content names another prescription');
        } catch (e) {
          problems.push(`the signed receipt content is no FHIR XML: ${(e as Error).message}`);
        }
      }
    }
    return { bundle, ...(signature ? { signature } : {}), signatureCheck: check, referencesPrescription: problems.length === 0, problems };
  }

  private async cardHandle(cardType: 'HBA' | 'SMC-B', iccsn: string): Promise<string> {
    const cards = await this.konnektor.getCards({ cardType });
    const card = cards.find((c) => c.iccsn === iccsn);
    if (!card) throw new AvsError(`the ${cardType} ${iccsn} is not plugged in at the Konnektor (GetCards found ${cards.map((c) => c.iccsn).join(', ') || 'none'})`);
    return card.cardHandle;
  }
}

function safeContent(cms: Buffer): Buffer | undefined {
  try {
    return parseSignedData(cms).content;
  } catch {
    return undefined;
  }
}

export { NS_ACCESS_CODE, NS_SECRET };
