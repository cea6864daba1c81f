/**
 * Readers for the parts of a KBV prescription bundle the E-Rezept workflow needs, and the
 * OperationOutcome writer. All readers work on FHIR JSON (parse XML with format.ts first) and
 * return undefined when a value is absent; they never throw on odd input.
 */
import type { FhirJson, FhirResource } from './format';
import type { ValidationIssue } from './validate';

export const NS = {
  prescriptionId: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId',
  prescriptionIdLegacy: 'https://gematik.de/fhir/NamingSystem/PrescriptionID',
  kvid10: 'http://fhir.de/sid/gkv/kvid-10',
  pkvId: 'http://fhir.de/sid/pkv/kvid-10',
  identifierTypeDeBasis: 'http://fhir.de/CodeSystem/identifier-type-de-basis',
  versicherungsart: 'http://fhir.de/CodeSystem/versicherungsart-de-basis',
  payorTypeKbv: 'https://fhir.kbv.de/CodeSystem/KBV_CS_FOR_Payor_Type_KBV',
  ikNumber: 'http://fhir.de/sid/arge-ik/iknr',
  ikNumberLegacy: 'http://fhir.de/NamingSystem/arge-ik/iknr',
  lanr: 'https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ANR',
  zanr: 'http://fhir.de/sid/kzbv/zahnarztnummer',
  qualificationType: 'https://fhir.kbv.de/CodeSystem/KBV_CS_FOR_Qualification_Type',
  formularArt: 'https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_KBV_FORMULAR_ART',
  medicationType: 'https://fhir.kbv.de/CodeSystem/KBV_CS_ERP_Medication_Type',
  pzn: 'http://fhir.de/CodeSystem/ifa/pzn',
} as const;

const arr = <T = FhirJson>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Resources of a Bundle (entry.resource), optionally of one type. */
export function bundleResources(bundle: FhirJson, resourceType?: string): FhirJson[] {
  return arr<FhirJson>(bundle.entry)
    .map((e) => e.resource as FhirJson | undefined)
    .filter((r): r is FhirJson => !!r && typeof r === 'object' && (!resourceType || r.resourceType === resourceType));
}

export function firstResource(bundle: FhirJson, resourceType: string): FhirJson | undefined {
  return bundleResources(bundle, resourceType)[0];
}

/** The PrescriptionID of a KBV bundle (Bundle.identifier with the gematik naming system). */
export function prescriptionIdOf(bundle: FhirJson): string | undefined {
  const id = bundle.identifier as FhirJson | undefined;
  if (!id) return undefined;
  const system = str(id.system);
  if (system !== NS.prescriptionId && system !== NS.prescriptionIdLegacy) return undefined;
  return str(id.value);
}

export function compositionOf(bundle: FhirJson): FhirJson | undefined {
  return firstResource(bundle, 'Composition');
}

export interface PatientKvnr {
  kvnr: string;
  /** "GKV" or "PKV" from identifier.type (identifier-type-de-basis) or the naming system. */
  kind: 'GKV' | 'PKV' | 'unknown';
  system?: string;
}

/** The insured's KVNR from the Patient (identifier with type GKV/PKV or the kvid-10 system). */
export function patientKvnrOf(bundle: FhirJson): PatientKvnr | undefined {
  const patient = firstResource(bundle, 'Patient');
  if (!patient) return undefined;
  for (const id of arr<FhirJson>(patient.identifier)) {
    const value = str(id.value);
    if (!value) continue;
    const typeCode = arr<FhirJson>((id.type as FhirJson | undefined)?.coding).find((c) => c.system === NS.identifierTypeDeBasis)?.code;
    if (typeCode === 'GKV' || typeCode === 'PKV') return { kvnr: value, kind: typeCode, system: str(id.system) };
    if (id.system === NS.kvid10) {
      // KVZ10 (unified KVNR) is used for both; the Coverage says which
      const cov = coverageOf(bundle)?.type;
      return { kvnr: value, kind: cov === 'PKV' ? 'PKV' : cov ? 'GKV' : 'unknown', system: NS.kvid10 };
    }
    if (id.system === NS.pkvId) return { kvnr: value, kind: 'PKV', system: NS.pkvId };
  }
  return undefined;
}

/** KVNR format and check digit (10 characters: letter, 8 digits, check digit; § 290 SGB V procedure). */
export function isValidKvnr(kvnr: string): boolean {
  if (!/^[A-Z][0-9]{9}$/.test(kvnr)) return false;
  const letter = kvnr.charCodeAt(0) - 64; // A=1 … Z=26
  const digits = `${String(letter).padStart(2, '0')}${kvnr.slice(1, 9)}`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let p = Number(digits[i]) * (i % 2 === 0 ? 1 : 2);
    if (p > 9) p = Math.floor(p / 10) + (p % 10);
    sum += p;
  }
  return sum % 10 === Number(kvnr[9]);
}

export interface CoverageInfo {
  /** versicherungsart-de-basis code: GKV, PKV, BG, SEL, SKT, UK, … */
  type?: string;
  payorIk?: string;
  payorName?: string;
}

export function coverageOf(bundle: FhirJson): CoverageInfo | undefined {
  const cov = firstResource(bundle, 'Coverage');
  if (!cov) return undefined;
  const type = str(arr<FhirJson>((cov.type as FhirJson | undefined)?.coding).find((c) => c.system === NS.versicherungsart || c.system === NS.payorTypeKbv)?.code);
  const payor = arr<FhirJson>(cov.payor)[0];
  const pid = payor?.identifier as FhirJson | undefined;
  const payorIk = pid && (pid.system === NS.ikNumber || pid.system === NS.ikNumberLegacy) ? str(pid.value) : undefined;
  return { type, payorIk, payorName: str(payor?.display) };
}

export interface PractitionerInfo {
  /** Qualification type code (KBV_CS_FOR_Qualification_Type: 00 Arzt, 01 Zahnarzt, 03 Arzt in Weiterbildung, …). */
  qualificationType?: string;
  /** Free-text/other qualifications (Berufsbezeichnung). */
  qualificationTexts: string[];
  lanr?: string;
  zanr?: string;
  name?: string;
}

/** The prescriber: the Practitioner the Composition's first author references (else the first Practitioner). */
export function prescriberOf(bundle: FhirJson): PractitionerInfo | undefined {
  const comp = compositionOf(bundle);
  const ref = str(arr<FhirJson>(comp?.author).find((a) => typeof a.reference === 'string')?.reference);
  const entries = arr<FhirJson>(bundle.entry);
  const byRef = ref ? entries.find((e) => e.fullUrl === ref)?.resource as FhirJson | undefined : undefined;
  const pr = byRef?.resourceType === 'Practitioner' ? byRef : firstResource(bundle, 'Practitioner');
  if (!pr) return undefined;
  const quals = arr<FhirJson>(pr.qualification).map((q) => q.code as FhirJson | undefined);
  const qualificationType = str(quals.flatMap((c) => arr<FhirJson>(c?.coding)).find((c) => c.system === NS.qualificationType)?.code);
  const qualificationTexts = quals.map((c) => str(c?.text)).filter((t): t is string => !!t);
  const ids = arr<FhirJson>(pr.identifier);
  const name = arr<FhirJson>(pr.name)[0];
  return {
    qualificationType,
    qualificationTexts,
    lanr: str(ids.find((i) => i.system === NS.lanr)?.value),
    zanr: str(ids.find((i) => i.system === NS.zanr)?.value),
    name: name ? [...arr<string>(name.prefix), ...arr<string>(name.given), str(name.family)].filter(Boolean).join(' ') : undefined,
  };
}

/** MedicationRequest.authoredOn (a date, "YYYY-MM-DD", in KBV bundles). */
export function authoredOnOf(bundle: FhirJson): string | undefined {
  return str(firstResource(bundle, 'MedicationRequest')?.authoredOn);
}

export interface FlowTypeHint {
  /** The flow type the bundle content suggests: 160 (GKV), 200 (PKV), 169/209 need the task's own type. */
  flowType?: '160' | '200';
  coverageType?: string;
  /** Flow type from the PrescriptionID prefix ("160.000.…"). */
  prescriptionIdFlowType?: string;
}

/** Hints for checking that a bundle fits its task's flow type (A_18556: coverage GKV/PKV vs 160/200). */
export function flowTypeHintOf(bundle: FhirJson): FlowTypeHint {
  const coverageType = coverageOf(bundle)?.type;
  const pid = prescriptionIdOf(bundle);
  const flowType = coverageType === 'PKV' ? '200' : coverageType ? '160' : undefined;
  return { flowType, coverageType, prescriptionIdFlowType: pid ? pid.split('.')[0] : undefined };
}

// ---------------------------------------------------------------------------
// OperationOutcome
// ---------------------------------------------------------------------------

export type IssueType =
  | 'invalid' | 'structure' | 'required' | 'value' | 'invariant' | 'security' | 'login' | 'unknown' | 'expired' | 'forbidden'
  | 'suppressed' | 'processing' | 'not-supported' | 'duplicate' | 'multiple-matches' | 'not-found' | 'deleted' | 'too-long'
  | 'code-invalid' | 'extension' | 'too-costly' | 'business-rule' | 'conflict' | 'transient' | 'lock-error' | 'no-store'
  | 'exception' | 'timeout' | 'incomplete' | 'throttled' | 'informational';

export interface OutcomeIssue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: IssueType;
  /** Human text (OperationOutcome.issue.details.text). */
  text?: string;
  diagnostics?: string;
  expression?: string[];
}

/** An R4 OperationOutcome. */
export function operationOutcome(issues: OutcomeIssue[]): FhirResource {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity,
      code: i.code,
      ...(i.text ? { details: { text: i.text } } : {}),
      ...(i.diagnostics ? { diagnostics: i.diagnostics } : {}),
      ...(i.expression?.length ? { expression: i.expression } : {}),
    })),
  };
}

const RULE_TO_TYPE: Record<string, IssueType> = {
  structure: 'structure',
  cardinality: 'required',
  type: 'structure',
  fixed: 'value',
  pattern: 'value',
  slicing: 'structure',
  binding: 'code-invalid',
  'code-invalid': 'code-invalid',
  profile: 'not-supported',
  'invariant-error': 'processing',
};

/** OperationOutcome issues from validation issues (errors and warnings; constraint keys → "invariant"). */
export function outcomeIssuesFromValidation(issues: ValidationIssue[], includeWarnings = false): OutcomeIssue[] {
  return issues
    .filter((i) => i.severity === 'error' || i.severity === 'fatal' || (includeWarnings && i.severity === 'warning'))
    .map((i) => ({
      severity: i.severity === 'fatal' ? 'fatal' : i.severity === 'error' ? 'error' : 'warning',
      code: RULE_TO_TYPE[i.rule] ?? 'invariant',
      diagnostics: `${i.rule}: ${i.message}`,
      expression: i.location ? [i.location] : undefined,
    }));
}
