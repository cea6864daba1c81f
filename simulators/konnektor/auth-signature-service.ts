/**
 * AuthSignatureService of the simulated Konnektor (AuthSignatureService_v7_4_1.wsdl; messages in
 * the namespace of SignatureService 7.4): ExternalAuthenticate signs a hash with the AUT key of
 * an SMC-B (PrK.HCI.AUT) or HBA (PrK.HP.AUT) — through PC/SC, the card computes the signature.
 *
 * Facts (docs/konnektor.md, "SignatureService / AuthSignatureService"):
 * - dss:SignatureType urn:bsi:tr:03111:ecdsa selects ECDSA (added with AuthSignatureService
 *   7.4.1: "neuer erlaubter Wert für ECDSA-Signatur"); urn:ietf:rfc:3447 is RSA, which stays the
 *   default when SignatureType is absent. The simulated cards carry ECC keys only: RSA → 4111.
 * - The ECDSA result is returned DER-encoded (ECDSA-Sig-Value) in dss:Base64Signature with
 *   Type="urn:bsi:tr:03111:ecdsa"; clients convert it to r‖s for JOSE themselves (gemILF_PS_ePA
 *   A_24540/A_26818 as cited by public Konnektor clients).
 * - The card's PIN (PIN.SMC, PIN.CH) must have been verified before (CardService VerifyPin, as
 *   gematik's Authenticator does); otherwise the card answers 6982 and the operation fails with
 *   4047.
 */
import { ecdsaRawToDer } from '../lib/bp256';
import { SW } from '../lib/apdu';
import { isSoapFault, konnektorFault, type SoapFault } from '../lib/soap';
import type { KonnektorContext } from './context';
import { buildExternalAuthenticateResponse, DSS_NS, parseExternalAuthenticate, SIG74_ACTION, SIG_ERRORS, SIGNATURE_TYPE } from './dss';
import type { SoapRequest, SoapRouter } from './soap-router';

export const AUTH_SIGNATURE_SERVICE_PATH = '/ws/AuthSignatureService';

/** Largest input ExternalAuthenticate signs (the card's PSO CDS takes up to 64 bytes for ECDSA). */
export const MAX_AUTH_INPUT_BYTES = 64;

export interface AuthSignatureServiceState {
  stats: { signatures: number };
}

export function registerAuthSignatureService(router: SoapRouter): AuthSignatureServiceState {
  const state: AuthSignatureServiceState = { stats: { signatures: 0 } };
  router.registerOperation({
    path: AUTH_SIGNATURE_SERVICE_PATH,
    soapAction: SIG74_ACTION('ExternalAuthenticate'),
    requestElement: { ns: DSS_NS.SIG74, local: 'ExternalAuthenticate' },
    handler: async (req: SoapRequest, k: KonnektorContext) => {
      const input = parseExternalAuthenticate(req.body, DSS_NS.SIG74);
      const ctx = req.context as NonNullable<SoapRequest['context']>;
      const card = k.cards.require(input.cardHandle);
      k.model.checkTerminalAccess(ctx, card.ctId);
      if (card.type !== 'SMC-B' && card.type !== 'HBA') {
        throw konnektorFault(SIG_ERRORS.wrongCardType.code, `ExternalAuthenticate needs an SMC-B or an HBA; the handle names a card of type ${card.type}`);
      }
      const type = input.signatureType ?? SIGNATURE_TYPE.RSA;
      if (type !== SIGNATURE_TYPE.ECDSA) {
        throw konnektorFault(
          SIG_ERRORS.signatureTypeNotSupported.code,
          type === SIGNATURE_TYPE.RSA
            ? `SignatureType ${type}${input.signatureType ? '' : ' (the default when SignatureType is absent)'}: the simulated cards hold ECC keys only; send ${SIGNATURE_TYPE.ECDSA}`
            : `SignatureType ${type} is not supported (${SIGNATURE_TYPE.ECDSA}, ${SIGNATURE_TYPE.RSA})`,
        );
      }
      if (input.signatureScheme) {
        throw konnektorFault(SIG_ERRORS.signatureTypeNotSupported.code, `SignatureSchemes ${input.signatureScheme} applies to RSA only`);
      }
      if (input.data.length === 0 || input.data.length > MAX_AUTH_INPUT_BYTES) {
        throw konnektorFault(4000, `BinaryString must hold 1..${MAX_AUTH_INPUT_BYTES} bytes (e.g. a SHA-256 hash), got ${input.data.length}`);
      }
      let raw: Buffer;
      try {
        raw = await k.cards.externalAuthenticate(card.handle, input.data);
      } catch (e) {
        if (isSoapFault(e) && (e as SoapFault & { sw?: number }).sw === SW.SECURITY_STATUS_NOT_SATISFIED) {
          const pin = card.type === 'SMC-B' ? 'PIN.SMC' : 'PIN.CH';
          throw konnektorFault(SIG_ERRORS.wrongCardType.code, `the ${card.type}'s ${pin} is not verified (VerifyPin first)`);
        }
        throw e;
      }
      state.stats.signatures++;
      return buildExternalAuthenticateResponse(k.clock(), ecdsaRawToDer(raw), SIGNATURE_TYPE.ECDSA, DSS_NS.SIG74);
    },
  });
  return state;
}

/** Contract of docs/konnektor.md: service.ts calls register(router). */
export function register(router: SoapRouter): void {
  registerAuthSignatureService(router);
}
