/**
 * UC 3.5 (A_18510, A_18871; display A_18573): the insured's access log as the FdV reads it.
 *
 * Request (api-erp erp_versicherte.adoc "Zugriffsprotokolle abrufen"): GET /AuditEvent with the
 * search parameters `date` (prefixes eq, gt, ge, lt, le; repeated for a range), `subtype`
 * (restful-interaction code: create, read, update, delete, operation), `entity` (PrescriptionID),
 * `agent` (Telematik-ID/KVNR of the accessing party), `_sort` (date or -date), `_count`; the
 * narrative text comes in the language of the `Accept-Language` header (de, en). The answer is a
 * Bundle searchset with `link` next/prev/self; the FdV follows `next` (fdv.ts).
 */
import type { FhirJson } from '../lib/fhir';

export interface AuditQuery {
  /** Only entries recorded at or after / before this instant (date=ge… / date=lt…). */
  since?: Date | string;
  until?: Date | string;
  /** restful-interaction code (create, read, update, delete, operation). */
  subtype?: string;
  /** Only entries about this prescription (entity=<PrescriptionID>). */
  prescriptionId?: string;
  /** Only entries of this accessing party (agent=<Telematik-ID or KVNR>). */
  agent?: string;
  /** 'date' (oldest first) or '-date' (newest first). */
  sort?: 'date' | '-date';
  /** Page size (_count). */
  count?: number;
  /** Accept-Language: the language of AuditEvent.text. */
  language?: 'de' | 'en';
  /** Follow next links up to this many pages (default 20). */
  maxPages?: number;
}

/** One access log entry (A_18497 contents: when, what kind, who (name + id), which prescription). */
export interface AuditEntry {
  id?: string;
  recorded?: string;
  /** C, R, U, D, E. */
  action?: string;
  subtype?: string;
  outcome?: string;
  agentName?: string;
  agentId?: string;
  agentIdSystem?: string;
  prescriptionId?: string;
  /** The narrative (div content without tags) in the requested language. */
  text?: string;
  language?: string;
  resource: FhirJson;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const arr = (v: unknown): FhirJson[] => (Array.isArray(v) ? (v as FhirJson[]) : v && typeof v === 'object' ? [v as FhirJson] : []);

function isoOf(v: Date | string): string {
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new TypeError('audit query: invalid date');
    return v.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(v)) throw new TypeError(`audit query: ${JSON.stringify(v)} is not a FHIR date/dateTime`);
  return v;
}

const SUBTYPES = ['create', 'read', 'update', 'delete', 'operation', 'vread', 'patch', 'search-type'];

/** The query string (without "?") for GET /AuditEvent. */
export function auditSearchParams(q: AuditQuery = {}): string {
  const p = new URLSearchParams();
  if (q.since !== undefined) p.append('date', `ge${isoOf(q.since)}`);
  if (q.until !== undefined) p.append('date', `lt${isoOf(q.until)}`);
  if (q.subtype !== undefined) {
    if (!SUBTYPES.includes(q.subtype)) throw new TypeError(`audit query: subtype ${JSON.stringify(q.subtype)} is not one of ${SUBTYPES.join(', ')}`);
    p.append('subtype', q.subtype);
  }
  if (q.prescriptionId !== undefined) p.append('entity', q.prescriptionId);
  if (q.agent !== undefined) p.append('agent', q.agent);
  if (q.sort !== undefined) {
    if (q.sort !== 'date' && q.sort !== '-date') throw new TypeError('audit query: sort must be date or -date');
    p.append('_sort', q.sort);
  }
  if (q.count !== undefined) {
    if (!Number.isInteger(q.count) || q.count < 1 || q.count > 1000) throw new TypeError('audit query: count must be an integer in 1..1000');
    p.append('_count', String(q.count));
  }
  return p.toString();
}

function divText(div: unknown): string | undefined {
  if (typeof div !== 'string') return undefined;
  return div.replace(/<[^>]*>/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim() || undefined;
}

export function readAuditEvent(ev: FhirJson): AuditEntry {
  const agent = arr(ev.agent)[0];
  const who = (agent?.who as FhirJson | undefined)?.identifier as FhirJson | undefined;
  const entity = arr(ev.entity)[0];
  const what = (entity?.what as FhirJson | undefined) ?? {};
  const whatId = str((what.identifier as FhirJson | undefined)?.value);
  const whatRef = str(what.reference);
  const refId = whatRef ? /(\d{3}(?:\.\d{3}){4}\.\d{2})/.exec(whatRef)?.[1] : undefined;
  const subtype = str(arr(ev.subtype)[0]?.code);
  const out: AuditEntry = { resource: ev };
  const set = <K extends keyof AuditEntry>(k: K, v: AuditEntry[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('id', str(ev.id));
  set('recorded', str(ev.recorded));
  set('action', str(ev.action));
  set('subtype', subtype);
  set('outcome', str(ev.outcome));
  set('agentName', str(agent?.name));
  set('agentId', str(who?.value));
  set('agentIdSystem', str(who?.system));
  set('prescriptionId', whatId ?? refId ?? str(entity?.description));
  set('text', divText((ev.text as FhirJson | undefined)?.div));
  set('language', str(ev.language));
  return out;
}
