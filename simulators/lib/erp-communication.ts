/**
 * E-Rezept messages (FHIR Communication) as client systems write and read them: the insured's FdV
 * (UC 3.3/3.4/3.8) and the pharmacy's AVS (UC 4.6/4.7/4.9) share this one module, so the wire
 * format lives in one place.
 *
 * Facts (gematik api-erp erp_communication.adoc; package de.gematik.erezept-workflow.r4 1.6):
 * - GEM_ERP_PR_Communication_DispReq (insured → pharmacy): basedOn = the E-Rezept-Token
 *   `Task/<id>/$accept?ac=<AccessCode>`, recipient.identifier = Telematik-ID
 *   (https://gematik.de/fhir/sid/telematik-id), extension GEM_ERP_EX_PrescriptionType (flow type,
 *   1..1), at most one payload whose contentString is the JSON
 *   `{"version":1,"supplyOptionsType":"onPremise|shipment|delivery","name":…,"address":[…],"hint":…,"phone":…}`.
 * - GEM_ERP_PR_Communication_Representative (insured → representative): basedOn = the token,
 *   recipient.identifier = KVNR (http://fhir.de/sid/gkv/kvid-10), one payload with contentString text.
 * - GEM_ERP_PR_Communication_Reply (pharmacy → insured): basedOn = `Task/<id>`, recipient = KVNR, one
 *   payload whose contentString is the JSON
 *   `{"version":1,"supplyOptionsType":…,"info_text":…,"pickUpCodeHR":…,"pickUpCodeDMC":…,"url":…}`.
 * - The Fachdienst sets `sender` and `sent` (the client leaves them out), `received` when the recipient
 *   first fetches the message; status is "unknown".
 *
 * Pure: no I/O. Builders refuse bad input with CommunicationError; the reader never throws on odd
 * input (unknown members are kept in `resource`).
 */
import { formatToken, parseToken, type ERezeptToken } from './erezept-token';
import type { FhirJson, FhirResource } from './fhir';
import { WORKFLOW_PROFILE_VERSION } from './medication-dispense';

const SD = 'https://gematik.de/fhir/erp/StructureDefinition/';

export const COMMUNICATION_PROFILE = {
  dispReq: `${SD}GEM_ERP_PR_Communication_DispReq|${WORKFLOW_PROFILE_VERSION}`,
  reply: `${SD}GEM_ERP_PR_Communication_Reply|${WORKFLOW_PROFILE_VERSION}`,
  representative: `${SD}GEM_ERP_PR_Communication_Representative|${WORKFLOW_PROFILE_VERSION}`,
} as const;

export const COMMUNICATION_SYSTEM = {
  telematikId: 'https://gematik.de/fhir/sid/telematik-id',
  kvid10: 'http://fhir.de/sid/gkv/kvid-10',
  pkvId: 'http://fhir.de/sid/pkv/kvid-10',
  prescriptionType: `${SD}GEM_ERP_EX_PrescriptionType`,
  flowType: 'https://gematik.de/fhir/erp/CodeSystem/GEM_ERP_CS_FlowType',
} as const;

/** Display texts of the flow types (GEM_ERP_CS_FlowType). */
const FLOW_TYPE_DISPLAY: Record<string, string> = {
  '160': 'Muster 16 (Apothekenpflichtige Arzneimittel)',
  '169': 'Muster 16 (Direkte Zuweisung)',
  '200': 'PKV (Apothekenpflichtige Arzneimittel)',
  '209': 'PKV (Direkte Zuweisung)',
};

export type SupplyOption = 'onPremise' | 'shipment' | 'delivery';
const SUPPLY_OPTIONS: readonly SupplyOption[] = ['onPremise', 'shipment', 'delivery'];

/** The JSON in a DispReq payload (the insured's wish: pick up, shipment, delivery by messenger). */
export interface DispReqPayload {
  version: 1;
  supplyOptionsType: SupplyOption;
  name?: string;
  address?: string[];
  hint?: string;
  phone?: string;
}

/** The JSON in a Reply payload (the pharmacy's answer). */
export interface ReplyPayload {
  version: 1;
  supplyOptionsType: SupplyOption;
  info_text?: string;
  pickUpCodeHR?: string;
  pickUpCodeDMC?: string;
  url?: string;
}

export type MessageKind = 'DispReq' | 'Reply' | 'Representative' | 'other';

/** A Communication as a client system sees it. */
export interface ErpMessage {
  id?: string;
  kind: MessageKind;
  profile?: string;
  /** basedOn.reference as sent (token for DispReq/Representative, Task/<id> for Reply; the Fachdienst may drop "Task/"). */
  basedOn?: string;
  /** The E-Rezept-Token in basedOn, when it is one. */
  token?: ERezeptToken;
  /** The prescription the message is about (from the token or Task/<id>). */
  prescriptionId?: string;
  sender?: { system?: string; value: string };
  recipient?: { system?: string; value: string };
  sent?: string;
  received?: string;
  /** payload.contentString. */
  text?: string;
  /** The payload text parsed as JSON, when it is a JSON object. */
  json?: Record<string, unknown>;
  /** The flow type from the PrescriptionType extension, when present. */
  flowType?: string;
  resource: FhirJson;
}

export class CommunicationError extends Error {
  override name = 'CommunicationError';
}

const TELEMATIK_ID_RE = /^[0-9A-Za-z.\-]{3,128}$/;
const KVNR_RE = /^[A-Z][0-9]{9}$/;
/** Longest free text we put into a message (the Fachdienst bounds the whole body). */
export const MAX_MESSAGE_TEXT = 8000;

function checkTelematikId(v: unknown): string {
  if (typeof v !== 'string' || !TELEMATIK_ID_RE.test(v)) throw new CommunicationError(`recipient Telematik-ID ${JSON.stringify(v)} is not a Telematik-ID`);
  return v;
}

function checkKvnr(v: unknown, what: string): string {
  if (typeof v !== 'string' || !KVNR_RE.test(v)) throw new CommunicationError(`${what} ${JSON.stringify(v)} is not a KVNR (letter and 9 digits)`);
  return v;
}

function checkText(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new CommunicationError(`${what} must be a non-empty string`);
  if (v.length > MAX_MESSAGE_TEXT) throw new CommunicationError(`${what} has ${v.length} characters, at most ${MAX_MESSAGE_TEXT}`);
  return v;
}

function checkSupplyOption(v: unknown): SupplyOption {
  if (!SUPPLY_OPTIONS.includes(v as SupplyOption)) throw new CommunicationError(`supplyOptionsType ${JSON.stringify(v)} is not one of ${SUPPLY_OPTIONS.join(', ')}`);
  return v as SupplyOption;
}

function flowTypeExtension(flowType: string): FhirJson {
  return { url: COMMUNICATION_SYSTEM.prescriptionType, valueCoding: { system: COMMUNICATION_SYSTEM.flowType, code: flowType, ...(FLOW_TYPE_DISPLAY[flowType] ? { display: FLOW_TYPE_DISPLAY[flowType] } : {}) } };
}

/** UC 3.3: the insured assigns a prescription to a pharmacy (token + optional supply wish). */
export function buildDispReq(p: { token: ERezeptToken; telematikId: string; payload?: DispReqPayload }): FhirResource {
  const basedOn = formatToken(p.token);
  const flowType = p.token.prescriptionId.slice(0, 3);
  const res: FhirResource = {
    resourceType: 'Communication',
    meta: { profile: [COMMUNICATION_PROFILE.dispReq] },
    extension: [flowTypeExtension(flowType)],
    basedOn: [{ reference: basedOn }],
    status: 'unknown',
    recipient: [{ identifier: { system: COMMUNICATION_SYSTEM.telematikId, value: checkTelematikId(p.telematikId) } }],
  };
  if (p.payload) {
    const pl = p.payload;
    if (pl.version !== 1) throw new CommunicationError('DispReq payload version must be 1');
    checkSupplyOption(pl.supplyOptionsType);
    if (pl.address !== undefined && (!Array.isArray(pl.address) || pl.address.some((l) => typeof l !== 'string'))) throw new CommunicationError('DispReq payload address must be an array of strings');
    res.payload = [{ contentString: JSON.stringify(pl) }];
  }
  return res;
}

/** UC 3.3: the insured sends a prescription (token) and a text to a representative (KVNR). */
export function buildRepresentativeMessage(p: { token: ERezeptToken; kvnr: string; text: string }): FhirResource {
  return {
    resourceType: 'Communication',
    meta: { profile: [COMMUNICATION_PROFILE.representative] },
    basedOn: [{ reference: formatToken(p.token) }],
    status: 'unknown',
    recipient: [{ identifier: { system: COMMUNICATION_SYSTEM.kvid10, value: checkKvnr(p.kvnr, 'recipient') } }],
    payload: [{ contentString: checkText(p.text, 'message text') }],
  };
}

/** UC 4.7: the pharmacy answers the insured (KVNR) about a prescription with the Reply JSON. */
export function buildReply(p: { prescriptionId: string; kvnr: string; payload: ReplyPayload }): FhirResource {
  parseToken(`Task/${p.prescriptionId}/$accept?ac=${'0'.repeat(64)}`); // validates the PrescriptionID (typed error)
  const pl = p.payload;
  if (!pl || pl.version !== 1) throw new CommunicationError('Reply payload version must be 1');
  checkSupplyOption(pl.supplyOptionsType);
  for (const k of ['info_text', 'pickUpCodeHR', 'pickUpCodeDMC', 'url'] as const) {
    if (pl[k] !== undefined && typeof pl[k] !== 'string') throw new CommunicationError(`Reply payload ${k} must be a string`);
  }
  if (pl.info_text !== undefined && pl.info_text.length > MAX_MESSAGE_TEXT) throw new CommunicationError(`info_text has more than ${MAX_MESSAGE_TEXT} characters`);
  return {
    resourceType: 'Communication',
    meta: { profile: [COMMUNICATION_PROFILE.reply] },
    basedOn: [{ reference: `Task/${p.prescriptionId}` }],
    status: 'unknown',
    recipient: [{ identifier: { system: COMMUNICATION_SYSTEM.kvid10, value: checkKvnr(p.kvnr, 'recipient') } }],
    payload: [{ contentString: JSON.stringify(pl) }],
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const arr = (v: unknown): FhirJson[] => (Array.isArray(v) ? (v as FhirJson[]) : v && typeof v === 'object' ? [v as FhirJson] : []);

function kindOf(profile: string | undefined): MessageKind {
  const name = profile?.split('|')[0].split('/').pop();
  if (name === 'GEM_ERP_PR_Communication_DispReq') return 'DispReq';
  if (name === 'GEM_ERP_PR_Communication_Reply') return 'Reply';
  if (name === 'GEM_ERP_PR_Communication_Representative') return 'Representative';
  return 'other';
}

function identifierOf(ref: FhirJson | undefined): { system?: string; value: string } | undefined {
  const id = ref?.identifier as FhirJson | undefined;
  const value = str(id?.value);
  if (!value) return undefined;
  const system = str(id?.system);
  return system ? { system, value } : { value };
}

/** Reads a Communication (JSON form) into an ErpMessage; never throws on odd content. */
export function readMessage(res: FhirJson): ErpMessage {
  const profiles = (res.meta as FhirJson | undefined)?.profile;
  const profile = Array.isArray(profiles) ? str(profiles[0]) : undefined;
  const basedOn = str(arr(res.basedOn)[0]?.reference);
  let token: ERezeptToken | undefined;
  let prescriptionId: string | undefined;
  if (basedOn) {
    // the Fachdienst answers reads with the leading slash ("/Task/<id>/$accept?ac=…", as production)
    const ref = basedOn.replace(/^\/+/, '');
    const asToken = ref.startsWith('Task/') ? ref : `Task/${ref}`;
    try {
      token = parseToken(asToken);
      prescriptionId = token.prescriptionId;
    } catch {
      const m = /^\/?(?:Task\/)?(\d{3}(?:\.\d{3}){4}\.\d{2})(?:[/?].*)?$/.exec(basedOn);
      if (m) prescriptionId = m[1];
    }
  }
  const payload = arr(res.payload)[0];
  const text = str(payload?.contentString);
  let json: Record<string, unknown> | undefined;
  if (text && text.trimStart().startsWith('{')) {
    try {
      const v = JSON.parse(text) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) json = v as Record<string, unknown>;
    } catch {
      // plain text
    }
  }
  const ext = arr(res.extension).find((e) => e.url === COMMUNICATION_SYSTEM.prescriptionType);
  const flowType = str((ext?.valueCoding as FhirJson | undefined)?.code);
  return {
    ...(str(res.id) ? { id: str(res.id) } : {}),
    kind: kindOf(profile),
    ...(profile ? { profile } : {}),
    ...(basedOn ? { basedOn } : {}),
    ...(token ? { token } : {}),
    ...(prescriptionId ? { prescriptionId } : {}),
    ...(identifierOf(res.sender as FhirJson | undefined) ? { sender: identifierOf(res.sender as FhirJson) } : {}),
    ...(identifierOf(arr(res.recipient)[0]) ? { recipient: identifierOf(arr(res.recipient)[0]) } : {}),
    ...(str(res.sent) ? { sent: str(res.sent) } : {}),
    ...(str(res.received) ? { received: str(res.received) } : {}),
    ...(text !== undefined ? { text } : {}),
    ...(json ? { json } : {}),
    ...(flowType ? { flowType } : {}),
    resource: res,
  };
}
