/**
 * The scenario tag vocabulary of DESIGN §3, checked by the gate (gates.ts)
 * and read by the traceability report and the Allure configuration.
 * docs/writing-features.md explains every tag; extend the lists here (and
 * there) when a new product type or actor appears.
 */

/**
 * Tag keys (`@KEY:value`). Any other `@…:…` tag is rejected as a probable typo. `RU-Dump`
 * (`@RU-Dump:Apotheke/<dir>`: the reference-environment dump a scenario reproduces) and `Workflow`
 * (`@Workflow:160`: the flow type, as gematik's suites tag it) are informational.
 */
export const TAG_KEYS = ['AFO-ID', 'UC', 'TCID', 'TESTFALL', 'PRODUKT', 'Hauptdarsteller', 'RU-Dump', 'Workflow'] as const;
export type TagKey = (typeof TAG_KEYS)[number];

/**
 * Product types under test. DESIGN §3 list plus `TI_PKI` and `Karte` for
 * scenarios that check the harness's own simulated infrastructure (CA, TSL,
 * OCSP; the virtual smartcards behind PC/SC).
 */
export const PRODUCTS = [
  'eRp_FD',
  'IDP',
  'Konnektor',
  'VZD',
  'FdV',
  'PVS',
  'AVS',
  'PoPP_Service',
  'PoPP_Client',
  'TI_PKI',
  'Karte',
] as const;

/**
 * Main actors ("Hauptdarsteller"): the role whose goal the scenario serves.
 * `Fachdienst` is a service acting as relying party (e.g. checking a
 * certificate's revocation status via OCSP); `Infrastruktur` is for checks
 * of the simulated TI itself that serve no single role.
 */
export const MAIN_ACTORS = [
  'Arztpraxis',
  'Zahnarztpraxis',
  'Krankenhaus',
  'Apotheke',
  'Versicherter',
  'Vertreter',
  'Kostentraeger',
  'Fachdienst',
  'Infrastruktur',
] as const;

export const TEST_KINDS = ['positiv', 'negativ'] as const;

/**
 * `@UC:none`: allowed only when no `@AFO-ID` of the scenario belongs to a use
 * case (infrastructure checks never do; requirements with `useCase: null` in
 * the catalogue, e.g. chapter 4/5 interface or security requirements, don't).
 * Must be the scenario's only @UC tag.
 */
export const NO_USE_CASE = 'none';

/** Tags that change how a scenario may run, not what it is about (informational). */
export const FLAG_TAGS = ['@simulator-only', '@wip', '@manual'] as const;

export interface ParsedTag {
  key: string;
  value: string;
}

/** `@AFO-ID:A_18498` → { key: 'AFO-ID', value: 'A_18498' }; tags without ':' → undefined. */
export function parseTag(tag: string): ParsedTag | undefined {
  const m = /^@([^:\s]+):(.*)$/.exec(tag);
  return m ? { key: m[1], value: m[2] } : undefined;
}

/** All values of one key among `tags` (`@KEY:value`), in order. */
export function tagValues(tags: readonly string[], key: TagKey): string[] {
  const out: string[] = [];
  for (const t of tags) {
    const p = parseTag(t);
    if (p && p.key === key) out.push(p.value);
  }
  return out;
}
