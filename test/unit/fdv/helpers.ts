/** Helpers of the FdV tests: an FdV on a scripted Fachdienst, FHIR JSON answers, a KBV bundle of our personas. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPersona, type EgkPersona, type HbaPersona, type SmcbPersona } from '../../../cards/index';
import { resolveEnvironment } from '../../../simulators/lib/config';
import { buildKbvBundle, coverageFromEgk, organizationFromSmcb, patientFromEgk, prescriberFromHba, withPrescriptionId } from '../../../simulators/lib/kbv-bundle';
import type { FhirJson, FhirResource } from '../../../simulators/lib/fhir';
import { Fdv } from '../../../simulators/fdv/fdv';
import { ScriptedFachdienst, type RecordedRequest } from '../avs/helpers';

export { ScriptedFachdienst, type RecordedRequest };

export const JSON_CT = { 'content-type': 'application/fhir+json;charset=utf-8' };
export const NS_PID = 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId';
export const NS_AC = 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode';

/** A JSON reply for the scripted Fachdienst. */
export function jsonReply(status: number, body: FhirJson | undefined, headers: Record<string, string> = {}) {
  return () => ({ status, body: body ? JSON.stringify(body) : '', headers: { ...JSON_CT, ...headers } });
}

export function outcome(code: string, text: string): FhirJson {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text } }] };
}

/** An FdV whose Fachdienst is the given script (no IDP, no card). */
export function offlineFdv(fachdienst: ScriptedFachdienst, insured = 'Jonas Keller'): Promise<Fdv> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fdv-offline-'));
  const env = resolveEnvironment({ name: 'fdv-offline', dataDir: tmp, services: {} } as never, path.join(tmp, 'fdv-offline.yaml'));
  return Fdv.open({ env, insured, fachdienst });
}

/** A Task as the Fachdienst shows it to the insured. */
export function insuredTask(id: string, kvnr: string, opts: { status?: string; accessCode?: string } = {}): FhirJson {
  return {
    resourceType: 'Task',
    id,
    extension: [
      { url: 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_EX_PrescriptionType', valueCoding: { system: 'https://gematik.de/fhir/erp/CodeSystem/GEM_ERP_CS_FlowType', code: id.slice(0, 3), display: 'Muster 16 (Apothekenpflichtige Arzneimittel)' } },
      { url: 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_EX_ExpiryDate', valueDate: '2025-06-28' },
      { url: 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_EX_AcceptDate', valueDate: '2025-04-25' },
    ],
    identifier: [
      { use: 'official', system: NS_PID, value: id },
      ...(opts.accessCode ? [{ use: 'official', system: NS_AC, value: opts.accessCode }] : []),
    ],
    status: opts.status ?? 'ready',
    intent: 'order',
    for: { identifier: { system: 'http://fhir.de/sid/gkv/kvid-10', value: kvnr } },
    authoredOn: '2025-03-28T08:04:19.265+00:00',
    lastModified: '2025-03-28T08:04:19.510+00:00',
    performerType: [{ coding: [{ system: 'https://gematik.de/fhir/erp/CodeSystem/GEM_ERP_CS_OrganizationType', code: 'urn:oid:1.2.276.0.76.4.54', display: 'Öffentliche Apotheke' }], text: 'Öffentliche Apotheke' }],
  };
}

/** A KBV bundle of our personas (Dr. Hanna Ebert for the insured) with the PrescriptionID. */
export function kbvBundle(prescriptionId: string, insured = 'Jonas Keller', dosage = '1-0-1-0'): FhirResource {
  const egk = loadPersona(insured) as EgkPersona;
  const input = {
    patient: patientFromEgk(egk),
    coverage: coverageFromEgk(egk),
    prescriber: prescriberFromHba(loadPersona('Dr. Hanna Ebert') as HbaPersona),
    organization: organizationFromSmcb(loadPersona('Praxis Dr. Hanna Ebert') as SmcbPersona),
    medication: { kind: 'pzn' as const, pzn: '06313728', name: 'Ibuprofen AL 400 mg 20 Filmtabletten N1', form: 'FTA', normSize: 'N1', ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } } },
    quantity: 2,
    dosage,
    substitutionAllowed: false,
  };
  return withPrescriptionId(buildKbvBundle(input, { now: new Date('2025-03-28T09:00:00+01:00') }), prescriptionId);
}

/** The GET /Task/<id> answer: collection with the Task and the KBV bundle. */
export function taskBundle(task: FhirJson, kbv: FhirJson): FhirJson {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    link: [{ relation: 'self', url: `https://erp.example/Task/${String(task.id)}` }],
    entry: [
      { fullUrl: `https://erp.example/Task/${String(task.id)}`, resource: task },
      { fullUrl: `urn:uuid:${String(kbv.id ?? 'kbv')}`, resource: kbv },
    ],
  };
}

export function searchset(resources: FhirJson[], next?: string, total?: number): FhirJson {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(total !== undefined ? { total } : {}),
    link: [{ relation: 'self', url: 'https://erp.example/x' }, ...(next ? [{ relation: 'next', url: next }] : [])],
    entry: resources.map((r) => ({ fullUrl: `https://erp.example/${String(r.resourceType)}/${String(r.id)}`, resource: r, search: { mode: 'match' } })),
  };
}
