/**
 * FHIR resources the workflow answers with, as production renders them (shapes of the ru-dumps
 * 001_Response_Task.xml, 005_Response_Task.xml, 007_Response_Bundle.xml): GEM_ERP_PR_Task with
 * PrescriptionID / AccessCode / Secret identifiers, flow type, ExpiryDate and AcceptDate extensions,
 * for (KVNR), owner, performerType and the input/output references; the $accept Bundle; serialization
 * to XML or JSON through simulators/lib/fhir.
 *
 * Binary ids follow production's scheme seen in the dumps: input type 1 (prescription as signed by the
 * prescriber) and type 2 (patient confirmation) and output (receipt) carry stable UUIDs per task.
 */
import { serializeFhirJson, serializeFhirXml, type FhirJson, type FhirResource } from '../../lib/fhir';
import type { FhirFormat } from '../outcome';
import { FHIR_CONTENT_TYPE } from '../outcome';
import type { TaskRecord } from '../store';

/** Profile version of the workflow resources (de.gematik.erezept-workflow.r4 1.6.1 in ../shared/fhir-packages; production dumps of 2025-03 show 1.4). */
export const WORKFLOW_PROFILE_VERSION = '1.6';

export const ERP = {
  prescriptionId: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId',
  accessCode: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode',
  secret: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_Secret',
  flowTypeCs: 'https://gematik.de/fhir/erp/CodeSystem/GEM_ERP_CS_FlowType',
  documentTypeCs: 'https://gematik.de/fhir/erp/CodeSystem/GEM_ERP_CS_DocumentType',
  organizationTypeCs: 'https://gematik.de/fhir/erp/CodeSystem/GEM_ERP_CS_OrganizationType',
  prescriptionTypeEx: 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_EX_PrescriptionType',
  expiryDateEx: 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_EX_ExpiryDate',
  acceptDateEx: 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_EX_AcceptDate',
  beneficiaryEx: 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_EX_Beneficiary',
  telematikId: 'https://gematik.de/fhir/sid/telematik-id',
  kvid10: 'http://fhir.de/sid/gkv/kvid-10',
} as const;

export function profile(name: string): string {
  return `https://gematik.de/fhir/erp/StructureDefinition/${name}|${WORKFLOW_PROFILE_VERSION}`;
}

/** The flow types of gemSysL_eRp 1.1 with production's display texts (dumps) and the performer type. */
export const FLOW_TYPES: Readonly<Record<number, { display: string; performerOid: string; performerDisplay: string; insurance: 'GKV' | 'PKV' }>> = {
  160: { display: 'Muster 16 (Apothekenpflichtige Arzneimittel)', performerOid: '1.2.276.0.76.4.54', performerDisplay: 'Öffentliche Apotheke', insurance: 'GKV' },
  169: { display: 'Muster 16 (Direkte Zuweisung)', performerOid: '1.2.276.0.76.4.54', performerDisplay: 'Öffentliche Apotheke', insurance: 'GKV' },
  200: { display: 'PKV (Apothekenpflichtige Arzneimittel)', performerOid: '1.2.276.0.76.4.54', performerDisplay: 'Öffentliche Apotheke', insurance: 'PKV' },
  209: { display: 'PKV (Direkte Zuweisung)', performerOid: '1.2.276.0.76.4.54', performerDisplay: 'Öffentliche Apotheke', insurance: 'PKV' },
};

export const SUPPORTED_FLOW_TYPES = Object.keys(FLOW_TYPES).map(Number);

/** Stable document UUIDs of a task (production: a0da774a-0e00-0000-000<type>-000000000000 style). */
export function documentId(task: Pick<TaskRecord, 'id'>, documentType: 1 | 2 | 3): string {
  const digits = task.id.replace(/\D/g, '').padStart(17, '0'); // 17 digits of the prescription ID
  const hex = BigInt(digits).toString(16).padStart(16, '0').slice(-16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-000${documentType}-${hex.slice(12, 16)}-000000000000`;
}

/** Production's timestamp form: 2025-03-28T08:03:29.933+00:00. */
export function fhirInstant(iso: string | Date): string {
  const s = typeof iso === 'string' ? iso : iso.toISOString();
  return s.replace(/Z$/, '+00:00');
}

export interface RenderTaskOptions {
  /** Include the AccessCode identifier (not for the pharmacy after accept? production keeps it; insured 169/209: no). */
  withAccessCode?: boolean;
  /** Include the Secret identifier ($accept answer, pharmacy GET). */
  withSecret?: boolean;
  /** Reference the receipt as output (completed tasks). */
  withReceipt?: boolean;
  /** Leave out the patient confirmation input (production's $accept answer shows only type 1). */
  onlyPrescriptionInput?: boolean;
}

export function renderTask(task: TaskRecord, opts: RenderTaskOptions = {}): FhirResource {
  const ft = FLOW_TYPES[task.flowType];
  const extension: FhirJson[] = [
    { url: ERP.prescriptionTypeEx, valueCoding: { system: ERP.flowTypeCs, code: String(task.flowType), ...(ft ? { display: ft.display } : {}) } },
  ];
  if (task.expiryDate) extension.push({ url: ERP.expiryDateEx, valueDate: task.expiryDate });
  if (task.acceptDate) extension.push({ url: ERP.acceptDateEx, valueDate: task.acceptDate });
  const identifier: FhirJson[] = [{ use: 'official', system: ERP.prescriptionId, value: task.id }];
  if ((opts.withAccessCode ?? true) && task.accessCode) identifier.push({ use: 'official', system: ERP.accessCode, value: task.accessCode });
  if (opts.withSecret && task.secret) identifier.push({ use: 'official', system: ERP.secret, value: task.secret });
  const res: FhirResource = {
    resourceType: 'Task',
    id: task.id,
    meta: { profile: [profile('GEM_ERP_PR_Task')] },
    extension,
    identifier,
    status: task.status,
    intent: 'order',
  };
  if (task.kvnr) res.for = { identifier: { system: ERP.kvid10, value: task.kvnr } };
  res.authoredOn = fhirInstant(task.createdAt);
  res.lastModified = fhirInstant(task.lastModified);
  if (ft) {
    res.performerType = [
      { coding: [{ system: ERP.organizationTypeCs, code: `urn:oid:${ft.performerOid}`, display: ft.performerDisplay }], text: ft.performerDisplay },
    ];
  }
  if (task.owner) res.owner = { identifier: { system: ERP.telematikId, value: task.owner } };
  if (task.status !== 'draft' && task.status !== 'cancelled') {
    const types: Array<1 | 2> = opts.onlyPrescriptionInput ? [1] : [1, 2];
    res.input = types.map((t) => ({
      type: { coding: [{ system: ERP.documentTypeCs, code: String(t) }] },
      valueReference: { reference: documentId(task, t) },
    }));
  }
  if (opts.withReceipt && task.status === 'completed') {
    res.output = [{ type: { coding: [{ system: ERP.documentTypeCs, code: '3' }] }, valueReference: { reference: documentId(task, 3) } }];
  }
  return res;
}

export function renderBinary(id: string, contentType: string, data: Buffer, profileName = 'GEM_ERP_PR_Binary'): FhirResource {
  return { resourceType: 'Binary', id, meta: { versionId: '1', profile: [profile(profileName)] }, contentType, data: data.toString('base64') };
}

/** The $accept answer: Bundle (collection) with the Task and the prescription Binary (dump 007_Response_Bundle.xml). */
export function renderAcceptBundle(task: TaskRecord, prescription: Buffer, baseUrl: string, bundleId: string, now: Date): FhirResource {
  const binId = documentId(task, 1);
  return {
    resourceType: 'Bundle',
    id: bundleId,
    type: 'collection',
    timestamp: fhirInstant(now),
    link: [{ relation: 'self', url: `${baseUrl}/Task/${task.id}/$accept/` }],
    entry: [
      { fullUrl: `${baseUrl}/Task/${task.id}`, resource: renderTask(task, { withSecret: true, onlyPrescriptionInput: true }) },
      { fullUrl: `urn:uuid:${binId}`, resource: renderBinary(binId, 'application/pkcs7-mime', prescription) },
    ],
  };
}

export function serialize(resource: FhirResource, format: FhirFormat): { body: string; contentType: string } {
  return format === 'json'
    ? { body: serializeFhirJson(resource), contentType: FHIR_CONTENT_TYPE.json }
    : { body: serializeFhirXml(resource, { declaration: true }), contentType: FHIR_CONTENT_TYPE.xml };
}
