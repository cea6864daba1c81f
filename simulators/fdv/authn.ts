/**
 * The FdV's IDP login (UC 5.1): client eRezeptApp, the insured's eGK signs over PC/SC
 * (signer from simulators/authenticator/signers). Details: docs/authenticator.md.
 */
import { createClientSystemAuthn, KNOWN_CLIENTS, type ClientSystemAuthn, type ClientSystemAuthnOptions } from '../authenticator/client-wiring';

export type InsuredAuthnOptions = Omit<ClientSystemAuthnOptions, 'relyingParty'> & Partial<Pick<ClientSystemAuthnOptions, 'relyingParty'>>;

/** Default relying party: the E-Rezept-App (eRezeptApp); another insured app passes its own. */
export function createInsuredAuthn(opts: InsuredAuthnOptions): Promise<ClientSystemAuthn> {
  return createClientSystemAuthn({ ...opts, relyingParty: opts.relyingParty ?? KNOWN_CLIENTS.insured });
}
