/**
 * What the FdV reads out of the Fachdienst's answers: the Task as the insured sees it (status, dates,
 * AccessCode — A_20555: the Fachdienst hands the AccessCode to the E-Rezept-FdV) and the business
 * content of the prescription from the KBV bundle (A_18539: medication, dosage, quantity, prescriber,
 * practice, patient, coverage, dates). Pure functions on FHIR JSON; readers return undefined for
 * absent values and never throw on odd content.
 */
import { parseSignedData } from '../lib/cms';
import { parseFhirXml, type FhirJson } from '../lib/fhir';
import { bundleResources, coverageOf, patientKvnrOf, prescriberOf, prescriptionIdOf, NS } from '../lib/fhir/resources';

export const TASK_NS = {
  prescriptionId: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId',
  accessCode: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode',
  prescriptionType: 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_EX_PrescriptionType',
  expiryDate: 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_EX_ExpiryDate',
  acceptDate: 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_EX_AcceptDate',
} as const;

export type TaskStatus = 'draft' | 'ready' | 'in-progress' | 'completed' | 'cancelled';

/** A Task as the insured's FdV sees it. */
export interface InsuredTask {
  taskId: string;
  status?: TaskStatus;
  /** Present for the E-Rezept-FdV on flow types 160/200 (not for direct assignments 169/209). */
  accessCode?: string;
  flowType?: string;
  flowTypeDisplay?: string;
  /** GEM_ERP_EX_ExpiryDate / AcceptDate (YYYY-MM-DD). */
  expiryDate?: string;
  acceptDate?: string;
  authoredOn?: string;
  lastModified?: string;
  /** Task.for: the insured the prescription is for. */
  kvnr?: string;
  /** performerType display ("Öffentliche Apotheke"). */
  performerType?: string;
  /** Task.owner: the pharmacy that holds it while in-progress. */
  owner?: string;
  task: FhirJson;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const arr = (v: unknown): FhirJson[] => (Array.isArray(v) ? (v as FhirJson[]) : v && typeof v === 'object' ? [v as FhirJson] : []);

function identifier(res: FhirJson, system: string): string | undefined {
  return str(arr(res.identifier).find((i) => i.system === system)?.value);
}

function extension(res: FhirJson, url: string): FhirJson | undefined {
  return arr(res.extension).find((e) => e.url === url);
}

export function readTask(task: FhirJson): InsuredTask {
  const flow = extension(task, TASK_NS.prescriptionType)?.valueCoding as FhirJson | undefined;
  const performer = arr(task.performerType)[0];
  const taskId = identifier(task, TASK_NS.prescriptionId) ?? str(task.id) ?? '';
  const out: InsuredTask = { taskId, task };
  const set = <K extends keyof InsuredTask>(k: K, v: InsuredTask[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('status', str(task.status) as TaskStatus | undefined);
  set('accessCode', identifier(task, TASK_NS.accessCode));
  set('flowType', str(flow?.code));
  set('flowTypeDisplay', str(flow?.display));
  set('expiryDate', str(extension(task, TASK_NS.expiryDate)?.valueDate));
  set('acceptDate', str(extension(task, TASK_NS.acceptDate)?.valueDate));
  set('authoredOn', str(task.authoredOn));
  set('lastModified', str(task.lastModified));
  set('kvnr', str(((task.for as FhirJson | undefined)?.identifier as FhirJson | undefined)?.value));
  set('performerType', str(performer?.text) ?? str(arr(performer?.coding)[0]?.display));
  set('owner', str(((task.owner as FhirJson | undefined)?.identifier as FhirJson | undefined)?.value));
  return out;
}

/**
 * The KBV bundle in an answer to GET /Task/<id>: a Bundle entry of type document (as the
 * production Fachdienst returns it), or — from a Fachdienst that returns the signed form — the KBV
 * bundle inside a CMS Binary.
 */
export function prescriptionBundleOf(answer: FhirJson, taskId?: string): FhirJson | undefined {
  const bundles = bundleResources(answer, 'Bundle').filter((b) => b.type === 'document' && !!prescriptionIdOf(b) && (!taskId || prescriptionIdOf(b) === taskId));
  const kbv = bundles.find((b) => bundleResources(b, 'MedicationRequest').length > 0);
  if (kbv) return kbv;
  for (const bin of bundleResources(answer, 'Binary')) {
    if (typeof bin.data !== 'string') continue;
    try {
      const content = parseSignedData(Buffer.from(bin.data, 'base64')).content;
      if (!content) continue;
      const b = parseFhirXml(content.toString('utf8'));
      if (b.resourceType === 'Bundle' && (!taskId || prescriptionIdOf(b) === taskId)) return b;
    } catch {
      // not a signed prescription
    }
  }
  return undefined;
}

/** A_18539: the business content of a prescription, as the FdV shows it. */
export interface PrescriptionContent {
  prescriptionId?: string;
  medication: {
    kind: 'PZN' | 'Wirkstoff' | 'Freitext' | 'Rezeptur' | 'unknown';
    name?: string;
    pzn?: string;
    /** Darreichungsform code (KBV_CS_SFHIR_KBV_DARREICHUNGSFORM), e.g. FTA. */
    form?: string;
    normSize?: string;
    /** "400 mg Ibuprofen" style ingredient lines. */
    ingredients: string[];
    packageSize?: string;
  };
  /** Dosage text, when the prescriber gave one (DosageFlag true). */
  dosage?: string;
  dosageGiven: boolean;
  quantity?: number;
  substitutionAllowed?: boolean;
  /** Zuzahlungsstatus (GKV) code, emergency fee, SER. */
  coPayment?: string;
  emergencyServicesFee?: boolean;
  /** MedicationRequest.authoredOn (date of issue). */
  authoredOn?: string;
  prescriber?: { name?: string; qualificationType?: string; jobTitle?: string; lanr?: string };
  practice?: { name?: string; bsnr?: string; phone?: string; email?: string; address?: string };
  patient?: { name?: string; birthDate?: string; kvnr?: string; address?: string };
  coverage?: { type?: string; payorName?: string; payorIk?: string };
}

function resolve(bundle: FhirJson, ref: unknown): FhirJson | undefined {
  const r = str((ref as FhirJson | undefined)?.reference);
  if (!r) return undefined;
  for (const e of arr(bundle.entry)) {
    const res = e.resource as FhirJson | undefined;
    if (!res) continue;
    const full = str(e.fullUrl);
    if (full === r || (full && full.endsWith(`/${r}`)) || `${String(res.resourceType)}/${String(res.id)}` === r || (r.startsWith('urn:uuid:') && res.id === r.slice(9))) return res;
  }
  return undefined;
}

function humanName(res: FhirJson | undefined): string | undefined {
  const n = arr(res?.name)[0];
  if (!n) return undefined;
  if (typeof n.text === 'string') return n.text;
  const parts = [...(Array.isArray(n.prefix) ? (n.prefix as string[]) : []), ...(Array.isArray(n.given) ? (n.given as string[]) : []), str(n.family)].filter((x): x is string => typeof x === 'string' && x.length > 0);
  return parts.length ? parts.join(' ') : undefined;
}

function addressLine(res: FhirJson | undefined): string | undefined {
  const a = arr(res?.address)[0];
  if (!a) return undefined;
  const line = Array.isArray(a.line) ? (a.line as string[]).join(' ') : undefined;
  const text = [line, [str(a.postalCode), str(a.city)].filter(Boolean).join(' ')].filter((x) => x && x.length > 0).join(', ');
  return text || str(a.text);
}

const MEDICATION_KIND: Record<string, PrescriptionContent['medication']['kind']> = {
  KBV_PR_ERP_Medication_PZN: 'PZN',
  KBV_PR_ERP_Medication_Ingredient: 'Wirkstoff',
  KBV_PR_ERP_Medication_FreeText: 'Freitext',
  KBV_PR_ERP_Medication_Compounding: 'Rezeptur',
};

function medicationOf(med: FhirJson | undefined): PrescriptionContent['medication'] {
  if (!med) return { kind: 'unknown', ingredients: [] };
  const profiles = (med.meta as FhirJson | undefined)?.profile;
  const profile = Array.isArray(profiles) ? str(profiles[0]) : undefined;
  const kind = MEDICATION_KIND[profile?.split('|')[0].split('/').pop() ?? ''] ?? 'unknown';
  const code = med.code as FhirJson | undefined;
  const ingredients = arr(med.ingredient).map((i) => {
    const item = (i.itemCodeableConcept as FhirJson | undefined) ?? {};
    const name = str(item.text) ?? str(arr(item.coding)[0]?.display);
    const numerator = ((i.strength as FhirJson | undefined)?.numerator as FhirJson | undefined) ?? {};
    const amount = num(numerator.value) !== undefined ? `${String(numerator.value)} ${str(numerator.unit) ?? ''}`.trim() : undefined;
    return [amount, name].filter(Boolean).join(' ');
  }).filter((s) => s.length > 0);
  const packaging = arr(((med.amount as FhirJson | undefined)?.numerator as FhirJson | undefined)?.extension).find((e) => String(e.url).endsWith('KBV_EX_ERP_Medication_PackagingSize'));
  const normSize = str(arr(med.extension).find((e) => e.url === 'http://fhir.de/StructureDefinition/normgroesse')?.valueCode);
  const out: PrescriptionContent['medication'] = { kind, ingredients };
  const name = str(code?.text) ?? str(arr(code?.coding)[0]?.display) ?? (kind === 'Wirkstoff' ? ingredients[0] : undefined);
  if (name) out.name = name;
  const pzn = str(arr(code?.coding).find((c) => c.system === NS.pzn)?.code);
  if (pzn) out.pzn = pzn;
  const form = str(arr((med.form as FhirJson | undefined)?.coding)[0]?.code) ?? str((med.form as FhirJson | undefined)?.text);
  if (form) out.form = form;
  if (normSize) out.normSize = normSize;
  const size = str(packaging?.valueString);
  if (size) out.packageSize = `${size} ${str(((med.amount as FhirJson).numerator as FhirJson).unit) ?? ''}`.trim();
  return out;
}

/** A_18539: reads the content of a KBV bundle (JSON). */
export function prescriptionContent(bundle: FhirJson): PrescriptionContent {
  const request = bundleResources(bundle, 'MedicationRequest')[0];
  const medication = resolve(bundle, request?.medicationReference) ?? bundleResources(bundle, 'Medication')[0];
  const dosage = arr(request?.dosageInstruction)[0];
  const dosageFlag = arr(dosage?.extension).find((e) => String(e.url).endsWith('KBV_EX_ERP_DosageFlag'))?.valueBoolean;
  const exts = arr(request?.extension);
  const coPayment = str((exts.find((e) => String(e.url).endsWith('KBV_EX_FOR_StatusCoPayment'))?.valueCoding as FhirJson | undefined)?.code);
  const emergency = exts.find((e) => String(e.url).endsWith('KBV_EX_ERP_EmergencyServicesFee'))?.valueBoolean;
  const practitioner = resolve(bundle, request?.requester) ?? bundleResources(bundle, 'Practitioner')[0];
  const organization = bundleResources(bundle, 'Organization')[0];
  const patient = resolve(bundle, request?.subject) ?? bundleResources(bundle, 'Patient')[0];
  const pr = prescriberOf(bundle);
  const cov = coverageOf(bundle);
  const telecom = arr(organization?.telecom);
  const out: PrescriptionContent = {
    medication: medicationOf(medication),
    dosageGiven: dosageFlag === true || typeof dosage?.text === 'string',
  };
  const pid = prescriptionIdOf(bundle);
  if (pid) out.prescriptionId = pid;
  if (typeof dosage?.text === 'string') out.dosage = dosage.text;
  const q = num(((request?.dispenseRequest as FhirJson | undefined)?.quantity as FhirJson | undefined)?.value);
  if (q !== undefined) out.quantity = q;
  const subst = (request?.substitution as FhirJson | undefined)?.allowedBoolean;
  if (typeof subst === 'boolean') out.substitutionAllowed = subst;
  if (coPayment) out.coPayment = coPayment;
  if (typeof emergency === 'boolean') out.emergencyServicesFee = emergency;
  const authoredOn = str(request?.authoredOn);
  if (authoredOn) out.authoredOn = authoredOn;
  if (practitioner || pr) {
    const name = humanName(practitioner) ?? pr?.name;
    out.prescriber = {
      ...(name ? { name } : {}),
      ...(pr?.qualificationType ? { qualificationType: pr.qualificationType } : {}),
      ...(pr?.qualificationTexts[0] ? { jobTitle: pr.qualificationTexts[0] } : {}),
      ...(pr?.lanr ? { lanr: pr.lanr } : {}),
    };
  }
  if (organization) {
    const bsnr = str(arr(organization.identifier)[0]?.value);
    const phone = str(telecom.find((t) => t.system === 'phone')?.value);
    const email = str(telecom.find((t) => t.system === 'email')?.value);
    const address = addressLine(organization);
    out.practice = { ...(str(organization.name) ? { name: str(organization.name) } : {}), ...(bsnr ? { bsnr } : {}), ...(phone ? { phone } : {}), ...(email ? { email } : {}), ...(address ? { address } : {}) };
  }
  if (patient) {
    const name = humanName(patient);
    const kvnr = patientKvnrOf(bundle)?.kvnr;
    const address = addressLine(patient);
    out.patient = { ...(name ? { name } : {}), ...(str(patient.birthDate) ? { birthDate: str(patient.birthDate) } : {}), ...(kvnr ? { kvnr } : {}), ...(address ? { address } : {}) };
  }
  if (cov) out.coverage = { ...(cov.type ? { type: cov.type } : {}), ...(cov.payorName ? { payorName: cov.payorName } : {}), ...(cov.payorIk ? { payorIk: cov.payorIk } : {}) };
  return out;
}
