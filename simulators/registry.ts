/**
 * The simulators the harness can start, by service name. A service listed in an
 * environment but not (yet) registered here is shown as "not simulated".
 * Starters are loaded lazily so `ti-harness up --only pki` loads only the PKI.
 */
import type { ServiceName } from './lib/ports';
import type { ServiceStarter } from './lib/service';

export const SIMULATORS: Partial<Record<ServiceName, () => Promise<ServiceStarter>>> = {
  pki: async () => (await import('./pki/service')).start,
  cards: async () => (await import('../cards/service')).start,
  idp: async () => (await import('./idp/service')).start,
  konnektor: async () => (await import('./konnektor/service')).start,
  fachdienst: async () => (await import('./fachdienst/service')).start,
};

/** Start order: services later in the list may depend on earlier ones (all trust the PKI). */
export const START_ORDER: ServiceName[] = ['pki', 'cards', 'idp', 'konnektor', 'vzd', 'fachdienst', 'zeta', 'popp', 'fdv', 'wiremock'];
