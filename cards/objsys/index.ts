/** The G2.1 object system of a persona's card, by card type. */
import type { ObjectSystem } from '../os/model';
import type { CardIdentity } from '../identity';
import type { Persona } from '../persona';
import { buildEgkObjectSystem } from './egk';
import { buildHbaObjectSystem } from './hba';
import { buildSmcbObjectSystem } from './smcb';

export { buildEgkObjectSystem } from './egk';
export { buildHbaObjectSystem, QES_SIGNATURES_PER_VERIFY } from './hba';
export { buildSmcbObjectSystem } from './smcb';
export { AID, ATR } from './common';

export function buildObjectSystem(persona: Persona, identity: CardIdentity): ObjectSystem {
  if (identity.persona.id !== persona.id) throw new Error(`identity of ${identity.persona.id} given for persona ${persona.id}`);
  switch (persona.type) {
    case 'eGK':
      return buildEgkObjectSystem(persona, identity);
    case 'HBA':
      return buildHbaObjectSystem(persona, identity);
    case 'SMC-B':
      return buildSmcbObjectSystem(persona, identity);
  }
}
