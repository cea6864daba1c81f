/**
 * Who may call which operation of the Fachdienst: the professionOID claim of the access token
 * against the allow-list of the operation (A_18739 with TAB_SYSLERP_040, A_18569), as production
 * registers them (eRP-FD/erp-processing-context ErpProcessingContext::addSecondaryEndpoints).
 *
 * TAB_SYSLERP_040 names roles ("Arzt, Zahnarzt, Mitarbeiter Arzt, … Krankenhaus"); production maps
 * them to these OIDs (gemSpec_OID Tab_PKI_402/403; values from simulators/pki/oids.ts):
 *   person (HBA):      Arzt …30, Zahnarzt …31, Apotheker …32, Versicherter …49 (eGK)
 *   institution (SMC-B): Praxis Arzt …50, Zahnarztpraxis …51, Praxis Psychotherapeut …52,
 *                      Krankenhaus …53, Öffentliche Apotheke …54, Krankenhausapotheke …55,
 *                      Kostenträger …59
 */
import { INSTITUTION, PROFESSION } from '../pki/oids';

export const PROFESSION_OID = {
  arzt: PROFESSION.arzt.oid,
  zahnarzt: PROFESSION.zahnarzt.oid,
  apotheker: PROFESSION.apotheker.oid,
  versicherter: PROFESSION.versicherter.oid,
  praxisArzt: INSTITUTION.praxisArzt.oid,
  zahnarztpraxis: INSTITUTION.zahnarztpraxis.oid,
  praxisPsychotherapeut: INSTITUTION.praxisPsychotherapeut.oid,
  krankenhaus: INSTITUTION.krankenhaus.oid,
  oeffentlicheApotheke: INSTITUTION.oeffentlicheApotheke.oid,
  krankenhausapotheke: INSTITUTION.krankenhausapotheke.oid,
  kostentraeger: INSTITUTION.kostentraeger.oid,
} as const;

const O = PROFESSION_OID;

/** Role groups as production uses them. */
export const ROLE_GROUPS = {
  /** Prescribing side ("Arzt, Zahnarzt, Mitarbeiter Arzt/Zahnarzt/Krankenhaus"; production adds Praxis Psychotherapeut). */
  prescriber: [O.arzt, O.zahnarzt, O.praxisArzt, O.zahnarztpraxis, O.praxisPsychotherapeut, O.krankenhaus],
  /** Dispensing side ("Apotheker, Mitarbeiter Apotheke": the SMC-B of a public or hospital pharmacy). */
  pharmacy: [O.oeffentlicheApotheke, O.krankenhausapotheke],
  insured: [O.versicherter],
  insurer: [O.kostentraeger],
} as const;

/** Allow-list of an operation: OIDs, or "any" (operations without role check, e.g. /metadata). */
export type RoleAllowList = readonly string[] | 'any';

/**
 * The allow-lists of production per operation (ErpProcessingContext.cxx). Route modules take their
 * `roles` from here so the matrix lives in one place.
 */
export const OPERATION_ROLES = {
  getAllTasks: [...ROLE_GROUPS.insured, ...ROLE_GROUPS.pharmacy],
  getTask: [...ROLE_GROUPS.insured, ...ROLE_GROUPS.pharmacy],
  createTask: [...ROLE_GROUPS.prescriber],
  activateTask: [...ROLE_GROUPS.prescriber],
  /** Flow types 160/169/200/209 (162, DiGA, would be the Kostenträger). */
  acceptTask: [...ROLE_GROUPS.pharmacy],
  rejectTask: [...ROLE_GROUPS.pharmacy, ...ROLE_GROUPS.insurer],
  closeTask: [...ROLE_GROUPS.pharmacy, ...ROLE_GROUPS.insurer],
  dispenseTask: [...ROLE_GROUPS.pharmacy],
  abortTask: [...ROLE_GROUPS.insured, ...ROLE_GROUPS.prescriber, ...ROLE_GROUPS.pharmacy],
  getMedicationDispense: [...ROLE_GROUPS.insured],
  communication: [...ROLE_GROUPS.insured, ...ROLE_GROUPS.pharmacy, ...ROLE_GROUPS.insurer],
  getAuditEvent: [...ROLE_GROUPS.insured],
  metadata: 'any',
  device: 'any',
} as const satisfies Record<string, RoleAllowList>;

export function isAllowed(allow: RoleAllowList, professionOid: string | undefined): boolean {
  return allow === 'any' || (!!professionOid && allow.includes(professionOid));
}

/** The kind of caller, for handlers that behave differently per side (abort, get task, …). */
export type CallerKind = 'insured' | 'prescriber' | 'pharmacy' | 'insurer' | 'other';

export function callerKind(professionOid: string | undefined): CallerKind {
  if (!professionOid) return 'other';
  for (const kind of ['insured', 'prescriber', 'pharmacy', 'insurer'] as const) {
    if ((ROLE_GROUPS[kind] as readonly string[]).includes(professionOid)) return kind;
  }
  return 'other';
}
