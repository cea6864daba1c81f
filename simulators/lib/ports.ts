/**
 * Default ports of the simulated TI (one table for the whole harness).
 * Environments may override any of them (config/environments/*.yaml).
 * Admin APIs of each simulator live on the same port under `/__admin`.
 */
export const DEFAULT_PORTS = {
  pki: 8440,
  idp: 8441,
  konnektor: 8442,
  fachdienst: 8443,
  vzd: 8444,
  popp: 8445,
  zeta: 8446,
  fdv: 8447,
  wiremock: 8448,
  /** Admin API of the virtual cards (pcscd + vpcd + card OS); the cards themselves speak PC/SC. */
  cards: 8449,
} as const;

export type ServiceName = keyof typeof DEFAULT_PORTS;

export const SERVICE_NAMES = Object.keys(DEFAULT_PORTS) as ServiceName[];

export const ADMIN_PATH = '/__admin';
