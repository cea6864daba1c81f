/**
 * Harness-internal fixture for tests and benchmarks: the small information model most Konnektor
 * stacks use (one practice "Praxis", client system PVS-1, workplace WP-1, terminals CT-A with
 * slots 0, 1 and CT-B with slots 2, 3) and the environment for a stack of PKI + cards + Konnektor
 * on ephemeral ports. One definition instead of a copy per test file.
 */
import * as path from 'node:path';
import { resolveEnvironment, type Environment } from '../../lib/config';

export const PRACTICE_TEST_MODEL = {
  tls: true,
  clientAuth: false,
  cardTerminals: [
    { id: 'CT-A', name: 'Empfang', slots: [0, 1] },
    { id: 'CT-B', name: 'Sprechzimmer', slots: [2, 3] },
  ],
  clientSystems: ['PVS-1'],
  workplaces: [{ id: 'WP-1', localTerminals: ['CT-A', 'CT-B'], clientSystems: ['PVS-1'] }],
  mandants: [{ id: 'Praxis', clientSystems: ['PVS-1'], workplaces: ['WP-1'], cardTerminals: ['CT-A', 'CT-B'] }],
};

/** The call context of PRACTICE_TEST_MODEL. */
export const PRACTICE_TEST_CONTEXT = { mandantId: 'Praxis', clientSystemId: 'PVS-1', workplaceId: 'WP-1' } as const;

/**
 * Environment `<name>` in `dir` with the PKI and cards service on the given ports, 4 vpcd slots from
 * `vpcdPort`, nothing inserted, and PRACTICE_TEST_MODEL as the Konnektor's information model.
 */
export function practiceTestEnvironment(opts: { name: string; dir: string; pkiPort: number; cardsPort: number; vpcdPort: number }): Environment {
  return resolveEnvironment(
    {
      name: opts.name,
      dataDir: opts.dir,
      services: { pki: { port: opts.pkiPort }, cards: { port: opts.cardsPort }, konnektor: { port: 1 } },
      cards: { slots: 4, vpcdPort: opts.vpcdPort, insert: [] },
      konnektor: PRACTICE_TEST_MODEL as never,
    },
    path.join(opts.dir, `${opts.name}.yaml`),
  );
}
