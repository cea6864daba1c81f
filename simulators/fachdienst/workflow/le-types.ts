/**
 * LE-type check of $accept (A_20055; production A_19166-01/A_25993): which profession OIDs may accept a
 * prescription of which flow type. Flow types 160/169/200/209 go to pharmacies (Öffentliche Apotheke,
 * Krankenhausapotheke); 162 (DiGA, not in gemSysL_eRp 1.1) would go to the Kostenträger.
 */
import { PROFESSION_OID } from '../roles';

const PHARMACY = [PROFESSION_OID.oeffentlicheApotheke, PROFESSION_OID.krankenhausapotheke];

export const ACCEPT_OIDS_BY_FLOW_TYPE: Readonly<Record<number, readonly string[]>> = {
  160: PHARMACY,
  169: PHARMACY,
  200: PHARMACY,
  209: PHARMACY,
  162: [PROFESSION_OID.kostentraeger],
};

export function mayAccept(flowType: number, professionOid: string): boolean {
  return (ACCEPT_OIDS_BY_FLOW_TYPE[flowType] ?? []).includes(professionOid);
}
