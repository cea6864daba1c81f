/**
 * Faults of the Konnektor's card layer: a card's status word or a PC/SC failure as a SOAP Fault
 * with a gematik code. The codes and texts themselves live in simulators/lib/soap.ts.
 *
 * - a card that left the reader mid-operation, or a handle that names no card: 4008
 * - any other unexpected status word: 4001 (Interner Fehler), the command and the SW in the detail
 */
import { swHex } from '../lib/apdu';
import { PcscError } from '../lib/pcsc-reader';
import { GEMATIK_ERRORS, isSoapFault, konnektorFault, SoapFault } from '../lib/soap';

export { GEMATIK_ERRORS, konnektorFault, SoapFault } from '../lib/soap';

/** A card answered a status word the operation cannot continue with. */
export class CardCommandError extends SoapFault {
  constructor(
    /** The status word (e.g. 0x6982). */
    readonly sw: number,
    /** What was sent, in words ("PSO COMPUTE DIGITAL SIGNATURE with PrK.HP.QES"). */
    readonly command: string,
    code = 4001,
  ) {
    const known = GEMATIK_ERRORS[code];
    const text = known?.text ?? 'Interner Fehler';
    const detail = `${command}: the card answered ${swHex(sw)}`;
    super(known?.faultcode ?? 'Server', text, [{ code, errorText: text, errorType: known?.type ?? 'Technical', severity: known?.severity ?? 'Error', detail, compType: 'KON' }]);
  }
}

/** The fault for an unexpected status word of `command`. */
export function swFault(sw: number, command: string, code = 4001): CardCommandError {
  return new CardCommandError(sw, command, code);
}

/** PC/SC codes that mean "the card is not there (any more)". */
const CARD_GONE = new Set(['RemovedCard', 'NoSmartcard', 'UnknownReader', 'ResetCard']);

/** Turns an error from the PC/SC layer into a SOAP Fault (4008 when the card is gone, 4001 otherwise). */
export function pcscFault(e: unknown, what: string): SoapFault {
  if (isSoapFault(e)) return e;
  if (e instanceof PcscError && e.code && CARD_GONE.has(e.code)) return konnektorFault(4008, `${what}: ${e.message}`);
  return konnektorFault(4001, `${what}: ${(e as Error)?.message ?? String(e)}`);
}
