/**
 * The PVS's IDP login (UC 5.2): client gematikTestPs, the practice's SMC-B signs through the Konnektor
 * (signer from simulators/authenticator/signers). Details: docs/authenticator.md.
 */
import { createClientSystemAuthn, KNOWN_CLIENTS, type ClientSystemAuthn, type ClientSystemAuthnOptions } from '../authenticator/client-wiring';

export type PracticeAuthnOptions = Omit<ClientSystemAuthnOptions, 'relyingParty'>;

export function createPracticeAuthn(opts: PracticeAuthnOptions): Promise<ClientSystemAuthn> {
  return createClientSystemAuthn({ ...opts, relyingParty: KNOWN_CLIENTS.practice });
}
