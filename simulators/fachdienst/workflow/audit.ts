/**
 * The insured's access protocol (A_18497, A_18526, A_18871): every operation that creates, changes,
 * reads or deletes a prescription writes one entry for the insured it belongs to (store.addAuditEvent),
 * and GET /AuditEvent renders the entries as production does (eRP-FD/erp-processing-context
 * AuditEventCreator, AuditEventTextTemplates, model::AuditEventId).
 *
 * Stored per entry: recorded (SimClock), action (C/R/U/D/E), the event id name (`description`), the
 * prescription ID, the insured's KVNR and, for entries caused by someone else, the accessor's
 * identifier (Telematik-ID, or the KVNR of a representative) and readable name (display name of the
 * token). Entries caused by the insured do not store the insured's name: it is taken from the token of
 * the reader at rendering time, as production does ({self}).
 *
 * Production does not write an entry for GET /Task (the list, since ERP-8507); it writes one for
 * GET /Task/{id} (insured / representative / pharmacy), GET /MedicationDispense and
 * GET /MedicationDispense/{id}. GET /AuditEvent itself is not protocolled.
 */
import type { FhirJson, FhirResource } from '../../lib/fhir';
import type { AuthContext } from '../fhir-router';
import type { AuditEventRecord, FachdienstStore } from '../store';
import { ERP, fhirInstant, profile } from './task-resource';

/** Production's AuditEventId names with their numbers (model/AuditData.hxx). */
export const AUDIT_EVENT_NUMBER = {
  GET_Task: 0,
  GET_Task_id_insurant: 1,
  GET_Task_id_representative: 2,
  GET_Task_id_pharmacy: 3,
  POST_Task_activate: 4,
  POST_Task_accept: 5,
  POST_Task_reject: 6,
  POST_Task_close: 7,
  POST_Task_abort_doctor: 8,
  POST_Task_abort_insurant: 9,
  POST_Task_abort_representative: 10,
  POST_Task_abort_pharmacy: 11,
  GET_MedicationDispense: 12,
  GET_MedicationDispense_id: 13,
  POST_Task_dispense: 32,
} as const;

export type AuditEventId = keyof typeof AUDIT_EVENT_NUMBER;

const ACTION: Record<AuditEventId, AuditEventRecord['action']> = {
  GET_Task: 'R',
  GET_Task_id_insurant: 'R',
  GET_Task_id_representative: 'R',
  GET_Task_id_pharmacy: 'R',
  POST_Task_activate: 'C',
  POST_Task_accept: 'U',
  POST_Task_reject: 'U',
  POST_Task_close: 'U',
  POST_Task_dispense: 'U',
  POST_Task_abort_doctor: 'D',
  POST_Task_abort_insurant: 'D',
  POST_Task_abort_representative: 'D',
  POST_Task_abort_pharmacy: 'D',
  GET_MedicationDispense: 'R',
  GET_MedicationDispense_id: 'R',
};

const CAUSED_BY_INSURED: ReadonlySet<AuditEventId> = new Set(['GET_Task', 'GET_Task_id_insurant', 'POST_Task_abort_insurant', 'GET_MedicationDispense', 'GET_MedicationDispense_id']);
const CAUSED_BY_REPRESENTATIVE: ReadonlySet<AuditEventId> = new Set(['GET_Task_id_representative', 'POST_Task_abort_representative']);

export function isAuditEventId(s: string): s is AuditEventId {
  return Object.prototype.hasOwnProperty.call(AUDIT_EVENT_NUMBER, s);
}

/**
 * Writes the entry of one operation. `kvnr` is the insured's (the entry is theirs); without KVNR
 * (drafts) nothing is written. Call inside the operation's transaction.
 */
export function auditWorkflow(
  store: FachdienstStore,
  e: { event: AuditEventId; kvnr?: string; taskId?: string; auth: AuthContext },
): AuditEventRecord | undefined {
  if (!e.kvnr) return undefined;
  const byInsured = CAUSED_BY_INSURED.has(e.event);
  return store.addAuditEvent({
    kvnr: e.kvnr,
    ...(e.taskId ? { taskId: e.taskId } : {}),
    action: ACTION[e.event],
    ...(byInsured ? {} : { agentId: e.auth.idNumber, agentName: e.auth.displayName }),
    agentOid: e.auth.professionOID,
    description: e.event,
    outcome: '0',
  });
}

// ------------------------------------------------------------------ texts (production's templates)

export type AuditLanguage = 'de' | 'en';
export const DEFAULT_AUDIT_LANGUAGE: AuditLanguage = 'de';

const TEXTS: Record<AuditLanguage, Record<AuditEventId, string>> = {
  de: {
    GET_Task: '{self} hat eine Liste von E-Rezepten heruntergeladen.',
    GET_Task_id_insurant: '{self} hat das Rezept mit der ID {prescriptionId} heruntergeladen.',
    GET_Task_id_representative: '{agentName} hat das Rezept mit der ID {prescriptionId} heruntergeladen.',
    GET_Task_id_pharmacy: '{agentName} hat das Rezept mit der ID {prescriptionId} heruntergeladen.',
    POST_Task_activate: '{agentName} hat das Rezept mit der ID {prescriptionId} eingestellt.',
    POST_Task_accept: '{agentName} hat das Rezept mit der ID {prescriptionId} angenommen.',
    POST_Task_reject: '{agentName} hat das Rezept mit der ID {prescriptionId} zurückgegeben.',
    POST_Task_close: '{agentName} hat das Rezept mit der ID {prescriptionId} beliefert.',
    POST_Task_abort_doctor: '{agentName} hat das Rezept mit der ID {prescriptionId} gelöscht.',
    POST_Task_abort_insurant: '{self} hat das Rezept mit der ID {prescriptionId} gelöscht.',
    POST_Task_abort_representative: '{agentName} hat das Rezept mit der ID {prescriptionId} gelöscht.',
    POST_Task_abort_pharmacy: '{agentName} hat das Rezept mit der ID {prescriptionId} gelöscht.',
    GET_MedicationDispense: '{self} hat eine Liste mit Medikament-Informationen heruntergeladen.',
    GET_MedicationDispense_id: '{self} hat Medikament-Informationen zu dem Rezept mit der ID {prescriptionId} heruntergeladen.',
    POST_Task_dispense: '{agentName} hat das Rezept mit der ID {prescriptionId} beliefert.',
  },
  en: {
    GET_Task: '{self} retrieved a list of prescriptions.',
    GET_Task_id_insurant: '{self} downloaded a prescription {prescriptionId}.',
    GET_Task_id_representative: '{agentName} downloaded a prescription {prescriptionId}.',
    GET_Task_id_pharmacy: '{agentName} downloaded a prescription {prescriptionId}.',
    POST_Task_activate: '{agentName} activated a prescription {prescriptionId}.',
    POST_Task_accept: '{agentName} accepted a prescription {prescriptionId}.',
    POST_Task_reject: '{agentName} rejected a prescription {prescriptionId}.',
    POST_Task_close: '{agentName} closed a prescription {prescriptionId}.',
    POST_Task_abort_doctor: '{agentName} deleted a prescription {prescriptionId}.',
    POST_Task_abort_insurant: '{self} deleted a prescription {prescriptionId}.',
    POST_Task_abort_representative: '{agentName} deleted a prescription {prescriptionId}.',
    POST_Task_abort_pharmacy: '{agentName} deleted a prescription {prescriptionId}.',
    GET_MedicationDispense: '{self} downloaded a medication dispense list.',
    GET_MedicationDispense_id: '{self} downloaded the medication dispense for a prescription {prescriptionId}.',
    POST_Task_dispense: '{agentName} dispensed a prescription {prescriptionId}.',
  },
};

/** Language of the protocol texts from Accept-Language: the first entry's primary tag if de/en, else de. */
export function auditLanguage(acceptLanguage: string | undefined): AuditLanguage {
  const first = (acceptLanguage ?? '').split(',')[0].split(';')[0].trim().toLowerCase().split('-')[0];
  return first === 'en' || first === 'de' ? first : DEFAULT_AUDIT_LANGUAGE;
}

export function auditText(event: AuditEventId, language: AuditLanguage, agentName: string, prescriptionId: string): string {
  return TEXTS[language][event].replaceAll('{self}', agentName).replaceAll('{agentName}', agentName).replaceAll('{prescriptionId}', prescriptionId);
}

const SUBTYPE: Record<AuditEventRecord['action'], string> = { C: 'create', R: 'read', U: 'update', D: 'delete', E: 'operation' };

/** `subtype` search value → stored action (production accepts the restful-interaction code or the action letter). */
export function actionOfSubtype(value: string): string {
  const hit = (Object.entries(SUBTYPE) as Array<[string, string]>).find(([, name]) => name === value);
  return hit ? hit[0] : value;
}

function resourceReference(event: AuditEventId, prescriptionId: string | undefined): string {
  const type = event.startsWith('GET_MedicationDispense') ? 'MedicationDispense' : 'Task';
  return prescriptionId ? `${type}/${prescriptionId}` : type;
}

/**
 * One protocol entry as GEM_ERP_PR_AuditEvent (production's shape): language, text.div in the
 * requested language, type rest, subtype, action, recorded, outcome 0, agent (who: KVNR of the
 * insured / representative or Telematik-ID, name), source.observer Device/1, entity (what: reference and
 * PrescriptionID, name = KVNR of the insured, description = PrescriptionID or "+").
 */
export function renderAuditEvent(rec: AuditEventRecord, opts: { language: AuditLanguage; reader: AuthContext }): FhirResource | undefined {
  if (!isAuditEventId(rec.description)) return undefined; // unknown ids are skipped, as production does
  const event = rec.description;
  let whoSystem: string;
  let whoValue: string;
  let agentName: string;
  if (CAUSED_BY_INSURED.has(event)) {
    whoSystem = ERP.kvid10;
    whoValue = rec.kvnr ?? '';
    agentName = opts.reader.displayName;
  } else {
    whoSystem = CAUSED_BY_REPRESENTATIVE.has(event) ? ERP.kvid10 : ERP.telematikId;
    whoValue = rec.agentId ?? '';
    agentName = rec.agentName ?? 'unbekannt';
  }
  const pid = rec.taskId;
  const what: FhirJson = { reference: resourceReference(event, pid) };
  if (pid) what.identifier = { system: ERP.prescriptionId, value: pid };
  return {
    resourceType: 'AuditEvent',
    id: rec.id,
    meta: { profile: [profile('GEM_ERP_PR_AuditEvent')] },
    language: opts.language,
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${escapeXhtml(auditText(event, opts.language, agentName, pid ?? ''))}</div>` },
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: SUBTYPE[rec.action] }],
    action: rec.action,
    recorded: fhirInstant(rec.recorded),
    outcome: rec.outcome,
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'humanuser', display: 'Human User' }] },
        who: { identifier: { system: whoSystem, value: whoValue } },
        name: agentName,
        requestor: false,
      },
    ],
    source: { site: 'E-Rezept Fachdienst', observer: { reference: 'Device/1' } },
    entity: [{ what, name: rec.kvnr ?? '', description: pid ?? '+' }],
  };
}

function escapeXhtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
