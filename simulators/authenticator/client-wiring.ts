/**
 * Wiring of a client system's login: relying-party IdpClient + Authentisierungsmodul + TokenManager,
 * with the IDP URL and the PKI trust anchors read from the environment
 * (env.services.idp.url; root and issuing CAs from env.services.pki.url + /certs/…).
 *
 * The client system and the module are separate parties with separate IdpClients and exchange logs:
 * the module's log never shows the token endpoint (A_18814), the client's never a card signature.
 */
import type { Environment } from '../lib/config';
import { fetchPkiTrust, IdpClient, type IdpRelyingParty, type IdpTrust } from '../lib/idp-client';
import { TokenManager } from '../lib/token-manager';
import { Authenticator } from './authenticator';
import type { ConsentPolicy } from './consent';
import type { ChallengeSigner } from './signer';
import { DeviceSsoStore } from './sso-store';

/** Relying parties registered at the IDP that our client systems use (gematik test registrations). */
export const KNOWN_CLIENTS = {
  /** Primärsystem of a practice or pharmacy (PVS, AVS). */
  practice: { clientId: 'gematikTestPs', redirectUri: 'http://test-ps.gematik.de/erezept', scope: 'openid e-rezept' },
  /** E-Rezept-App (FdV) of the insured. */
  insured: { clientId: 'eRezeptApp', redirectUri: 'https://redirect.gematik.de/erezept', scope: 'openid e-rezept' },
  /** Another app of the insured that is not an E-Rezept-FdV (e.g. a health insurer's app): A_20555–A_20557. */
  otherInsuredApp: { clientId: 'ti-harness-kassen-app', redirectUri: 'https://kassen-app.ti-harness.sim/erezept', scope: 'openid e-rezept' },
} as const satisfies Record<string, IdpRelyingParty>;

export interface ClientSystemAuthnOptions {
  env: Environment;
  signer: ChallengeSigner;
  relyingParty: IdpRelyingParty;
  /** The simulated user's consent answers (default: grant all). */
  consent?: ConsentPolicy;
  /** The device's SSO store; pass the same store to several client systems on one device. */
  ssoStore?: DeviceSsoStore;
  /** Clock in ms for exp checks and renewal (default Date.now). */
  clock?: () => number;
  /** Trust anchors (default: fetched from the PKI service). */
  trust?: IdpTrust;
  renewBeforeSeconds?: number;
}

export interface ClientSystemAuthn {
  relyingParty: IdpRelyingParty;
  /** The client system's own connection to the IDP (discovery, token endpoint, logout, revocation). */
  idp: IdpClient;
  authenticator: Authenticator;
  tokens: TokenManager;
  /** Releases the signer (card connection). */
  close(): Promise<void>;
}

export async function createClientSystemAuthn(opts: ClientSystemAuthnOptions): Promise<ClientSystemAuthn> {
  const issuerUrl = opts.env.services.idp.url;
  const trust = opts.trust ?? (await fetchPkiTrust(opts.env.services.pki.url));
  const clock = opts.clock ?? Date.now;
  const idp = new IdpClient(issuerUrl, { trust, clock });
  const authenticator = new Authenticator({
    issuerUrl,
    trust,
    clock,
    signer: opts.signer,
    consent: opts.consent,
    ssoStore: opts.ssoStore ?? new DeviceSsoStore({ clock }),
  });
  const tokens = new TokenManager({ client: opts.relyingParty, authenticator, idp, clock, renewBeforeSeconds: opts.renewBeforeSeconds });
  return {
    relyingParty: opts.relyingParty,
    idp,
    authenticator,
    tokens,
    close: async () => {
      await opts.signer.close?.();
    },
  };
}
