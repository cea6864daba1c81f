/**
 * Registered relying parties and service scopes (A_18810): loaded from the environment's idp
 * section, changed at run time through the admin API (in memory; a restart returns to the file).
 */
import { ConfigError, validateIdpClient, validateIdpScope, type IdpClientConfig, type IdpConfig, type IdpScopeConfig } from '../lib/config';
import { SCOPE_OPENID } from '../lib/idp-protocol';

/** German description of the built-in openid scope (ref-idp-server userConsent.descriptionTexts). */
export const OPENID_DESCRIPTION = 'Zugriff auf den ID-Token.';

export class ClientRegistry {
  private readonly clientMap = new Map<string, IdpClientConfig>();
  private readonly scopeMap = new Map<string, IdpScopeConfig>();

  constructor(config: Pick<IdpConfig, 'clients' | 'scopes'>) {
    for (const c of config.clients) this.clientMap.set(c.client_id, { ...c, redirect_uris: [...c.redirect_uris] });
    for (const s of config.scopes) this.scopeMap.set(s.scope, { ...s, claims: [...s.claims] });
  }

  client(id: string): IdpClientConfig | undefined {
    return this.clientMap.get(id);
  }

  clients(): IdpClientConfig[] {
    return [...this.clientMap.values()];
  }

  /** Adds or replaces a client; throws ConfigError for an invalid registration. */
  registerClient(raw: unknown): IdpClientConfig {
    const c = validateIdpClient(raw, 'client registration:');
    this.clientMap.set(c.client_id, c);
    return c;
  }

  removeClient(id: string): boolean {
    return this.clientMap.delete(id);
  }

  scope(name: string): IdpScopeConfig | undefined {
    return this.scopeMap.get(name);
  }

  scopes(): IdpScopeConfig[] {
    return [...this.scopeMap.values()];
  }

  registerScope(raw: unknown): IdpScopeConfig {
    const s = validateIdpScope(raw, 'scope registration:');
    this.scopeMap.set(s.scope, s);
    return s;
  }

  removeScope(name: string): boolean {
    if (name === SCOPE_OPENID) throw new ConfigError('"openid" is built in and cannot be removed');
    return this.scopeMap.delete(name);
  }

  /** All scope names the IDP knows (for the discovery document). */
  scopeNames(): string[] {
    return [SCOPE_OPENID, ...this.scopeMap.keys()];
  }
}
