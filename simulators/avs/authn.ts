/**
 * The AVS's IDP login (UC 5.2): the pharmacy's SMC-B, same registered client as the PVS
 * (gematikTestPs). Details: docs/authenticator.md.
 */
import { createClientSystemAuthn, KNOWN_CLIENTS, type ClientSystemAuthn, type ClientSystemAuthnOptions } from '../authenticator/client-wiring';

export type PracticeAuthnOptions = Omit<ClientSystemAuthnOptions, 'relyingParty'>;

export function createPracticeAuthn(opts: PracticeAuthnOptions): Promise<ClientSystemAuthn> {
  return createClientSystemAuthn({ ...opts, relyingParty: KNOWN_CLIENTS.practice });
}
