/**
 * Mehrfachverordnung (MVO, multiple prescription): the KBV extension KBV_EX_ERP_Multiple_Prescription on
 * the MedicationRequest (Kennzeichen, Nummerierung numerator/denominator, Zeitraum start/end, ID) and the
 * Fachdienst's rules on it, with production's texts and order (eRP-FD/erp-processing-context
 * ActivateTaskHandler::checkMultiplePrescription, setMvoExpiryAcceptDates, AcceptTaskHandler::
 * checkMultiplePrescription; gemSpec_FD_eRp A_22627-01 … A_22635, A_23164, A_23537, A_24901, A_19445-08):
 *
 *   $activate (400)                                               text
 *   end before start (A_23164)                                    Ende der Einlösefrist liegt vor Beginn der Einlösefrist
 *   numerator or denominator > 4 (A_22628)                        Eine Mehrfachverordnungen darf aus maximal 4 Teilverordnungen bestehen
 *   numerator < 1 (A_22704)                                       Für eine Mehrfachverordnungen muss der numerator größer 0 sein.
 *   denominator < 2 (A_22629)                                     Eine Mehrfachverordnung muss aus mindestens 2 Teilverordnungen bestehen
 *   numerator > denominator (A_22630)                             Numerator ist größer als denominator
 *   Ersatzverordnung (legal basis 10/11/17, A_22633)              Für Ersatzverordnung sind keine Mehrfachverordnungen zulässig
 *   Entlassrezept (legal basis 04/14, A_22632)                    Für Entlassrezepte sind keine Mehrfachverordnungen zulässig
 *   no start (A_22634)                                            Beginn der Einlösefrist für MVO ist erforderlich
 *   start before authoredOn (A_23537)                             Einlösefrist liegt zeitlich vor dem Ausstellungsdatum
 *   ID not urn:uuid (A_24901)                                     MVO-ID entspricht nicht urn:uuid format
 *   Kennzeichen false with Nummerierung / Zeitraum (A_22631)      Nummerierung darf nur bei MVO angegeben werden / Zeitraum darf nur bei MVO angegeben werden
 *
 *   Task dates (A_19445-08): ExpiryDate = AcceptDate = Zeitraum.end, or signing day + 365 days without end.
 *
 *   $accept (403, A_22635)                                         Teilverordnung ab dd.mm.yyyy einlösbar.
 *   after the end (A_23539)                                        Teilverordnung bis dd.mm.yyyy einlösbar.
 *
 * All flow types of gemSysL_eRp 1.1 (160, 169, 200, 209) allow MVO, so A_22627-01's refusal cannot occur here.
 */
import { bundleResources, type FhirJson, type FhirResource } from '../../lib/fhir';
import { FhirError } from '../outcome';

export const MVO_EXTENSION_URL = 'https://fhir.kbv.de/StructureDefinition/KBV_EX_ERP_Multiple_Prescription';
const LEGAL_BASIS_URL = 'https://fhir.kbv.de/StructureDefinition/KBV_EX_FOR_Legal_basis';

export const MVO_TEXT = {
  endBeforeStart: 'Ende der Einlösefrist liegt vor Beginn der Einlösefrist',
  tooMany: 'Eine Mehrfachverordnungen darf aus maximal 4 Teilverordnungen bestehen',
  numeratorZero: 'Für eine Mehrfachverordnungen muss der numerator größer 0 sein.',
  denominatorOne: 'Eine Mehrfachverordnung muss aus mindestens 2 Teilverordnungen bestehen',
  numeratorGreater: 'Numerator ist größer als denominator',
  ersatzverordnung: 'Für Ersatzverordnung sind keine Mehrfachverordnungen zulässig',
  entlassrezept: 'Für Entlassrezepte sind keine Mehrfachverordnungen zulässig',
  startMissing: 'Beginn der Einlösefrist für MVO ist erforderlich',
  startBeforeAuthoredOn: 'Einlösefrist liegt zeitlich vor dem Ausstellungsdatum',
  idNotUrnUuid: 'MVO-ID entspricht nicht urn:uuid format',
  numberingWithoutMvo: 'Nummerierung darf nur bei MVO angegeben werden',
  periodWithoutMvo: 'Zeitraum darf nur bei MVO angegeben werden',
} as const;

/** The MVO extension of a prescription bundle as data. */
export interface MultiplePrescription {
  /** Kennzeichen. */
  isMvo: boolean;
  numerator?: number;
  denominator?: number;
  /** Zeitraum start/end as given (YYYY-MM-DD; longer forms are cut to the day). */
  start?: string;
  end?: string;
  /** ID (urn:uuid:…). */
  id?: string;
  hasNumbering: boolean;
  hasPeriod: boolean;
}

function sub(ext: FhirJson, url: string): FhirJson | undefined {
  return (Array.isArray(ext.extension) ? (ext.extension as FhirJson[]) : []).find((e) => e.url === url);
}

function day(v: unknown): string | undefined {
  return typeof v === 'string' && v.length >= 10 ? v.slice(0, 10) : undefined;
}

/** The MVO extension of the bundle's (first) MedicationRequest; undefined when it carries none. */
export function multiplePrescriptionOf(bundle: FhirResource): MultiplePrescription | undefined {
  const mr = bundleResources(bundle, 'MedicationRequest')[0];
  const ext = (Array.isArray(mr?.extension) ? (mr.extension as FhirJson[]) : []).find((e) => e.url === MVO_EXTENSION_URL);
  if (!ext) return undefined;
  const numbering = sub(ext, 'Nummerierung');
  const period = sub(ext, 'Zeitraum');
  const ratio = numbering?.valueRatio as FhirJson | undefined;
  const p = period?.valuePeriod as FhirJson | undefined;
  const num = Number((ratio?.numerator as FhirJson | undefined)?.value);
  const den = Number((ratio?.denominator as FhirJson | undefined)?.value);
  const id = (sub(ext, 'ID')?.valueIdentifier as FhirJson | undefined)?.value;
  return {
    isMvo: sub(ext, 'Kennzeichen')?.valueBoolean === true,
    ...(Number.isFinite(num) ? { numerator: num } : {}),
    ...(Number.isFinite(den) ? { denominator: den } : {}),
    ...(day(p?.start) ? { start: day(p?.start) } : {}),
    ...(day(p?.end) ? { end: day(p?.end) } : {}),
    ...(typeof id === 'string' ? { id } : {}),
    hasNumbering: numbering !== undefined,
    hasPeriod: period !== undefined,
  };
}

function legalBasisOf(bundle: FhirResource): string | undefined {
  const comp = bundleResources(bundle, 'Composition')[0];
  const ext = (Array.isArray(comp?.extension) ? (comp.extension as FhirJson[]) : []).find((e) => e.url === LEGAL_BASIS_URL);
  const code = (ext?.valueCoding as FhirJson | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

const URN_UUID = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** $activate: the MVO rules in production's order; throws FhirError 400. `authoredOn` is YYYY-MM-DD. */
export function checkMultiplePrescription(mvo: MultiplePrescription | undefined, bundle: FhirResource, authoredOn: string | undefined): void {
  if (!mvo) return;
  if (!mvo.isMvo) {
    if (mvo.hasNumbering) throw new FhirError(400, MVO_TEXT.numberingWithoutMvo);
    if (mvo.hasPeriod) throw new FhirError(400, MVO_TEXT.periodWithoutMvo);
    return;
  }
  if (mvo.id !== undefined && !URN_UUID.test(mvo.id)) {
    throw new FhirError(400, MVO_TEXT.idNotUrnUuid, { diagnostics: `urn:uuid format pattern: urn:uuid:<XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX>, found: ${mvo.id}` });
  }
  if (mvo.start && mvo.end && mvo.end < mvo.start) throw new FhirError(400, MVO_TEXT.endBeforeStart);
  const num = mvo.numerator ?? 0;
  const den = mvo.denominator ?? 0;
  if (num > 4 || den > 4) throw new FhirError(400, MVO_TEXT.tooMany);
  if (num < 1) throw new FhirError(400, MVO_TEXT.numeratorZero);
  if (den < 2) throw new FhirError(400, MVO_TEXT.denominatorOne);
  if (num > den) throw new FhirError(400, MVO_TEXT.numeratorGreater);
  const legal = legalBasisOf(bundle);
  if (legal === '10' || legal === '11' || legal === '17') throw new FhirError(400, MVO_TEXT.ersatzverordnung);
  if (legal === '04' || legal === '14') throw new FhirError(400, MVO_TEXT.entlassrezept);
  if (!mvo.start) throw new FhirError(400, MVO_TEXT.startMissing);
  if (authoredOn && mvo.start < authoredOn.slice(0, 10)) throw new FhirError(400, MVO_TEXT.startBeforeAuthoredOn);
}

function plusDays(ymd: string, days: number): string {
  const [y, m, d] = ymd.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** A_19445-08 for an MVO: ExpiryDate = AcceptDate = Zeitraum.end, else signing day + 365 days. */
export function mvoExpiryAndAcceptDates(mvo: MultiplePrescription, signingDay: string): { expiryDate: string; acceptDate: string } {
  const date = mvo.end ?? plusDays(signingDay, 365);
  return { expiryDate: date, acceptDate: date };
}

/** dd.mm.yyyy of a YYYY-MM-DD day. */
export function germanDate(ymd: string): string {
  const [y, m, d] = ymd.split('-');
  return `${d}.${m}.${y}`;
}

/**
 * $accept: a part prescription is redeemable from Zeitraum.start (A_22635) until Zeitraum.end
 * (inclusive, A_23539); `today` is the current day in Europe/Berlin (YYYY-MM-DD). Throws FhirError 403.
 */
export function checkMvoRedeemable(mvo: MultiplePrescription | undefined, today: string): void {
  if (!mvo?.isMvo) return;
  if (!mvo.start) throw new FhirError(500, 'MedicationRequest.extension:Mehrfachverordnung.extension:Zeitraum.value[x]:valuePeriod.start not present');
  if (today < mvo.start) throw new FhirError(403, `Teilverordnung ab ${germanDate(mvo.start)} einlösbar.`);
  if (mvo.end && mvo.end < today) throw new FhirError(403, `Teilverordnung bis ${germanDate(mvo.end)} einlösbar.`);
}
