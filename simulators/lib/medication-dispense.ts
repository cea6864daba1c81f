/**
 * The dispensing data set of a pharmacy (AVS) for the E-Rezept-Fachdienst: GEM_ERP_PR_MedicationDispense
 * with its GEM_ERP_PR_Medication, built from the prescription (KBV bundle), wrapped in the input
 * Parameters of $dispense (GEM_ERP_PR_PAR_DispenseOperation_Input) or $close
 * (GEM_ERP_PR_PAR_CloseOperation_Input), and validated against the workflow profiles of
 * ../shared/fhir-packages (de.gematik.erezept-workflow.r4 1.6) before anything is sent.
 *
 * Shapes as the real E2E suite sent them (ru-dumps Apotheke "$close?secret=" Parameters): one
 * `rxDispensation` parameter per dispensed medication with the parts `medicationDispense`
 * (identifier PrescriptionID, status completed, medicationReference to the Medication, subject
 * KVNR, performer Telematik-ID of the pharmacy, whenPrepared/whenHandedOver, substitution) and
 * `medication` (PZN and name, form, amount, normgroesse, drug category, vaccine flag, batch).
 */
import { randomUUID } from 'node:crypto';
import { bundleResources, errorsOf, patientKvnrOf, prescriptionIdOf, validateResource, type FhirJson, type FhirResource, type ValidationIssue } from './fhir';

/** Version of the workflow profiles the data set declares (package de.gematik.erezept-workflow.r4 1.6.x). */
export const WORKFLOW_PROFILE_VERSION = '1.6';

const SD = 'https://gematik.de/fhir/erp/StructureDefinition/';
export const PROFILE = {
  medicationDispense: `${SD}GEM_ERP_PR_MedicationDispense|${WORKFLOW_PROFILE_VERSION}`,
  medication: `${SD}GEM_ERP_PR_Medication|${WORKFLOW_PROFILE_VERSION}`,
  dispenseInput: `${SD}GEM_ERP_PR_PAR_DispenseOperation_Input|${WORKFLOW_PROFILE_VERSION}`,
  closeInput: `${SD}GEM_ERP_PR_PAR_CloseOperation_Input|${WORKFLOW_PROFILE_VERSION}`,
} as const;

export const SYSTEM = {
  prescriptionId: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId',
  kvid10: 'http://fhir.de/sid/gkv/kvid-10',
  telematikId: 'https://gematik.de/fhir/sid/telematik-id',
  pzn: 'http://fhir.de/CodeSystem/ifa/pzn',
  darreichungsform: 'https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_KBV_DARREICHUNGSFORM',
  drugCategoryExt: 'https://gematik.de/fhir/epa-medication/StructureDefinition/drug-category-extension',
  drugCategoryCs: 'https://gematik.de/fhir/epa-medication/CodeSystem/epa-drug-category-cs',
  vaccineExt: 'https://gematik.de/fhir/epa-medication/StructureDefinition/medication-id-vaccine-extension',
  normgroesse: 'http://fhir.de/StructureDefinition/normgroesse',
  kbvCategoryExt: 'https://fhir.kbv.de/StructureDefinition/KBV_EX_ERP_Medication_Category',
  kbvVaccineExt: 'https://fhir.kbv.de/StructureDefinition/KBV_EX_ERP_Medication_Vaccine',
} as const;

export class MedicationDispenseError extends Error {
  override name = 'MedicationDispenseError';
  constructor(
    message: string,
    /** Validation errors when the built data set does not conform to the workflow profiles. */
    readonly issues: ValidationIssue[] = [],
  ) {
    super(message);
  }
}

/** What the pharmacy hands over; everything not given is taken from the prescription. */
export interface MedicationDispensed {
  /** PZN (8 digits) of the dispensed package; default: the prescribed PZN. */
  pzn?: string;
  /** Name of the product; default: the prescribed one. */
  name?: string;
  /** Darreichungsform code (KBV_CS_SFHIR_KBV_DARREICHUNGSFORM); default: the prescribed one. */
  form?: string;
  /** Norm size (N1, N2, N3, NB, …); default: the prescribed one. */
  normSize?: string;
  /** Package amount (numerator value/unit). */
  amount?: { value: number; unit: string };
  batch?: { lotNumber: string; expirationDate?: string };
}

export interface Dispensation {
  /** One entry per dispensed medication (default: one, as prescribed). */
  medications?: MedicationDispensed[];
  /** YYYY-MM-DD (default: the day of `now`, Europe/Berlin). */
  whenHandedOver?: string;
  whenPrepared?: string;
  /** Aut-idem substitution happened (default false). */
  substituted?: boolean;
}

export interface DispensationContext {
  /** The prescription (KBV bundle) the pharmacy received with $accept. */
  prescription: FhirJson;
  /** Telematik-ID of the dispensing pharmacy (its SMC-B). */
  telematikId: string;
  /** The Task id (default: the bundle's PrescriptionID). */
  prescriptionId?: string;
  /** Clock for the default dates (ms). */
  now?: () => number;
}

export interface DispensedItem {
  medicationDispense: FhirResource;
  medication: FhirResource;
}

const arr = <T = FhirJson>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/** YYYY-MM-DD of `ms` in Europe/Berlin (the pharmacy's day). */
export function berlinDate(ms: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
}

/** The prescribed Medication of a KBV bundle. */
function prescribedMedication(bundle: FhirJson): FhirJson {
  const m = bundleResources(bundle, 'Medication')[0];
  if (!m) throw new MedicationDispenseError('the prescription bundle contains no Medication');
  return m;
}

function extensionValue(res: FhirJson, url: string): FhirJson | undefined {
  return arr<FhirJson>(res.extension).find((e) => e.url === url);
}

/** GEM_ERP_PR_Medication for one dispensed item, defaults from the prescribed KBV Medication. */
export function buildDispensedMedication(prescribed: FhirJson, given: MedicationDispensed = {}): FhirResource {
  const code = (prescribed.code as FhirJson | undefined) ?? {};
  const prescribedPzn = arr<FhirJson>(code.coding).find((c) => c.system === SYSTEM.pzn)?.code as string | undefined;
  const pzn = given.pzn ?? prescribedPzn;
  if (pzn !== undefined && !/^\d{8}$/.test(pzn)) throw new MedicationDispenseError(`PZN must be 8 digits, got ${JSON.stringify(pzn)}`);
  const ingredientName = arr<FhirJson>(prescribed.ingredient)
    .map((i) => (i.itemCodeableConcept as FhirJson | undefined)?.text as string | undefined)
    .filter((t): t is string => !!t)
    .join(', ');
  const name = given.name ?? ((code.text as string | undefined) || ingredientName || undefined);
  if (!pzn && !name) throw new MedicationDispenseError('the dispensed medication needs a PZN or a name');
  const category = (extensionValue(prescribed, SYSTEM.kbvCategoryExt)?.valueCoding as FhirJson | undefined)?.code ?? '00';
  const vaccine = extensionValue(prescribed, SYSTEM.kbvVaccineExt)?.valueBoolean ?? false;
  const normSize = given.normSize ?? (extensionValue(prescribed, SYSTEM.normgroesse)?.valueCode as string | undefined);
  const formCode = given.form ?? (arr<FhirJson>((prescribed.form as FhirJson | undefined)?.coding).find((c) => c.system === SYSTEM.darreichungsform)?.code as string | undefined);
  const med: FhirResource = {
    resourceType: 'Medication',
    id: randomUUID(),
    meta: { profile: [PROFILE.medication] },
    extension: [
      { url: SYSTEM.drugCategoryExt, valueCoding: { system: SYSTEM.drugCategoryCs, code: category } },
      { url: SYSTEM.vaccineExt, valueBoolean: vaccine },
      ...(normSize ? [{ url: SYSTEM.normgroesse, valueCode: normSize }] : []),
    ],
    code: { ...(pzn ? { coding: [{ system: SYSTEM.pzn, code: pzn }] } : {}), ...(name ? { text: name } : {}) },
  };
  if (formCode) med.form = { coding: [{ system: SYSTEM.darreichungsform, code: formCode }] };
  if (given.amount) med.amount = { numerator: { value: given.amount.value, unit: given.amount.unit }, denominator: { value: 1 } };
  if (given.batch) med.batch = { lotNumber: given.batch.lotNumber, ...(given.batch.expirationDate ? { expirationDate: given.batch.expirationDate } : {}) };
  return med;
}

/** MedicationDispense(s) + Medication(s) for a prescription; validated (MedicationDispenseError when not). */
export function buildDispensation(ctx: DispensationContext, dispensation: Dispensation = {}): DispensedItem[] {
  const prescriptionId = ctx.prescriptionId ?? prescriptionIdOf(ctx.prescription);
  if (!prescriptionId) throw new MedicationDispenseError('the prescription bundle carries no PrescriptionID');
  const patient = patientKvnrOf(ctx.prescription);
  if (!patient?.kvnr) throw new MedicationDispenseError('the prescription bundle carries no KVNR of the patient');
  if (!ctx.telematikId) throw new MedicationDispenseError('the pharmacy has no Telematik-ID');
  const today = berlinDate((ctx.now ?? Date.now)());
  const handedOver = dispensation.whenHandedOver ?? today;
  const prepared = dispensation.whenPrepared ?? handedOver;
  for (const [k, v] of Object.entries({ whenHandedOver: handedOver, whenPrepared: prepared })) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new MedicationDispenseError(`${k} must be YYYY-MM-DD, got ${JSON.stringify(v)}`);
  }
  const prescribed = prescribedMedication(ctx.prescription);
  const given = dispensation.medications?.length ? dispensation.medications : [{}];
  const items = given.map((g): DispensedItem => {
    const medication = buildDispensedMedication(prescribed, g);
    const medicationDispense: FhirResource = {
      resourceType: 'MedicationDispense',
      id: randomUUID(),
      meta: { profile: [PROFILE.medicationDispense] },
      identifier: [{ system: SYSTEM.prescriptionId, value: prescriptionId }],
      status: 'completed',
      medicationReference: { reference: `urn:uuid:${medication.id as string}` },
      subject: { identifier: { system: SYSTEM.kvid10, value: patient.kvnr } },
      performer: [{ actor: { identifier: { system: SYSTEM.telematikId, value: ctx.telematikId } } }],
      whenPrepared: prepared,
      whenHandedOver: handedOver,
      substitution: { wasSubstituted: dispensation.substituted ?? false },
    };
    return { medicationDispense, medication };
  });
  for (const item of items) {
    assertValid(item.medicationDispense, 'MedicationDispense');
    assertValid(item.medication, 'Medication');
  }
  return items;
}

/** The input Parameters of $dispense or $close (validated against the operation's input profile). */
export function dispensationParameters(items: readonly DispensedItem[], operation: 'dispense' | 'close'): FhirResource {
  if (!items.length) throw new MedicationDispenseError('at least one dispensed medication is required');
  const params: FhirResource = {
    resourceType: 'Parameters',
    id: randomUUID(),
    meta: { profile: [operation === 'dispense' ? PROFILE.dispenseInput : PROFILE.closeInput] },
    parameter: items.map((i) => ({
      name: 'rxDispensation',
      part: [
        { name: 'medicationDispense', resource: i.medicationDispense },
        { name: 'medication', resource: i.medication },
      ],
    })),
  };
  assertValid(params, `$${operation} Parameters`);
  return params;
}

/** Errors of `resource` against its declared workflow profile(s) (warnings/information dropped). */
export function dispensationErrors(resource: FhirJson): ValidationIssue[] {
  return errorsOf(validateResource(resource));
}

function assertValid(resource: FhirJson, what: string): void {
  const errors = dispensationErrors(resource);
  if (errors.length) {
    throw new MedicationDispenseError(`${what} does not conform to the workflow profile: ${errors.map((e) => `${e.location}: ${e.message}`).join('; ')}`, errors);
  }
}
