/**
 * Which product types a requirement addresses, normalised to the fixed
 * vocabulary of types.ts (PRODUCTS).
 *
 * Rules (documented in docs/catalogue.md, applied in this order):
 *  1. The addressee is the subject of the first normative sentence: the text
 *     before its first upper-case keyword ("Der E-Rezept-Fachdienst MUSS …" →
 *     E-Rezept-Fachdienst). Later normative sentences add products only if
 *     their subject names one.
 *  2. Collective subjects are resolved by a fixed table (COLLECTIVE_SUBJECTS),
 *     each entry justified by the spec's own wording next to it.
 *  3. "Alle am Anwendungsfall "…" beteiligten Produkttypen und Komponenten"
 *     (the use-case tables of chapter 3): the products the table mentions;
 *     "Primärsystem"/"PS"/"Client System" mean PS verordnend in UC 2.x, PS
 *     abgebend in UC 4.x, both in UC 5.2 (the numbering follows the actor).
 *  4. "Die Schnittstelle MUSS die logische Operation …" (chapter 4.3): the
 *     providing product (4.3.1–4.3.3 E-Rezept-Fachdienst, 4.3.4–4.3.5 IDP)
 *     plus the calling product named in "Mit dieser Operation kann …".
 *  5. Otherwise the subject is scanned for product names; if the subject
 *     speaks of an "Anbieter", every product named maps to its provider
 *     ("Anbieter E-Rezept-Fachdienst", "Anbieter IDP", "Anbieter FdV").
 * A requirement whose addressee matches no rule stops the generator.
 */
import { PRODUCTS, type Product } from './types';
import { CatalogueParseError, normativeSentences } from './text';

const FD = /E-Rezept-Fachdienst/;
const IDP = /\bIDP\b|Identity Provider/;
const FDV = /E-Rezept-Frontend des Versicherten|E-Rezept-FdV|\bFdV\b|Frontend des Versicherten/;
const PS_VERORDNEND = /Primärsystem(?:s)? der verordnenden/;
const PS_ABGEBEND = /Primärsystem(?:s)? der abgebenden/;
const PS_ANY = /Primärsystem|\bPS\b|\bPVS\b|\bAVS\b|Client System/;
const AUTHN_MODULE = /Authentisierungsmodul/;
const VZD = /Verzeichnisdienst/;
const KONNEKTOR = /Konnektor/;
const MONITORING = /TI-Service Monitoring/;

const ALL_PS: Product[] = ['PS verordnend', 'PS abgebend'];

/** Subjects that name no single product type; resolved as the spec explains them. */
const COLLECTIVE_SUBJECTS: { pattern: RegExp; products: Product[]; why: string }[] = [
  {
    pattern: /^Die durch die Fachanwendung E-Rezept genutzten Dienste, welche ihren Dienst im Internet anbieten$/,
    products: ['E-Rezept-Fachdienst', 'IDP', 'VZD'],
    why: '4.1: "Neben dem E-Rezept-Fachdienst bieten auch der Verzeichnisdienst und der Identity Provider … ihre Dienste im Internet an."',
  },
  {
    pattern: /^Die durch die Fachanwendung E-Rezept genutzten Dienste, außer dem Identity Provider$/,
    products: ['E-Rezept-Fachdienst', 'VZD'],
    why: 'the services used by the application (Fachdienst, IDP, VZD) minus the IDP',
  },
  {
    pattern: /^Die Dienste der Fachanwendung E-Rezept$/,
    products: ['E-Rezept-Fachdienst', 'IDP', 'VZD'],
    why: 'the services of the application as listed in 4 (Fachdienst, IDP, Verzeichnisdienst)',
  },
  {
    pattern: /^Jeder Produkttyp, der AuthN-Token als Aufrufparameter bei Operationen entgegennimmt und verarbeitet$/,
    products: ['E-Rezept-Fachdienst', 'VZD'],
    why: 'A_18793: the services that authenticate callers by AuthN-Token are the Fachdienst and the VZD',
  },
  {
    pattern: /^(?:Die Produkttypen der Fachanwendung E-Rezept|Die Fachanwendung E-Rezept|Alle an den Anwendungsfällen der Fachanwendung E-Rezept beteiligten Produkttypen und Komponenten)$/,
    products: ['Fachanwendung E-Rezept (alle Produkttypen)'],
    why: 'addressed to the application as a whole',
  },
];

function order(set: Set<Product>): Product[] {
  return PRODUCTS.filter((p) => set.has(p));
}

function scanProducts(text: string, opts: { psDefault: Product[] }): Set<Product> {
  const found = new Set<Product>();
  if (FD.test(text)) found.add('E-Rezept-Fachdienst');
  if (IDP.test(text)) found.add('IDP');
  if (FDV.test(text)) found.add('FdV');
  if (AUTHN_MODULE.test(text)) found.add('Authentisierungsmodul');
  if (VZD.test(text)) found.add('VZD');
  if (KONNEKTOR.test(text)) found.add('Konnektor');
  if (MONITORING.test(text)) found.add('TI-Service-Monitoring');
  const v = PS_VERORDNEND.test(text);
  const a = PS_ABGEBEND.test(text);
  if (v) found.add('PS verordnend');
  if (a) found.add('PS abgebend');
  if (!v && !a && PS_ANY.test(text)) for (const p of opts.psDefault) found.add(p);
  if (/Frontend-Komponenten der Nutzer/.test(text)) {
    found.add('FdV');
    for (const p of ALL_PS) found.add(p);
  }
  return found;
}

const PROVIDER: Partial<Record<Product, Product>> = {
  'E-Rezept-Fachdienst': 'Anbieter E-Rezept-Fachdienst',
  IDP: 'Anbieter IDP',
  FdV: 'Anbieter FdV',
};

function subjectProducts(subject: string): Set<Product> {
  for (const c of COLLECTIVE_SUBJECTS) if (c.pattern.test(subject)) return new Set(c.products);
  const found = scanProducts(subject, { psDefault: ALL_PS });
  if (/\bAnbieter\b/.test(subject)) {
    const providers = new Set<Product>();
    for (const p of found) {
      const prov = PROVIDER[p];
      if (!prov) throw new CatalogueParseError(`no provider form for ${p} in subject "${subject}"`);
      providers.add(prov);
    }
    return providers;
  }
  return found;
}

/**
 * Participants a use-case table leaves implicit, each backed by the spec:
 * UC 3.5 reads the Fachdienst's access log (TAB_SYSLERP_019, "Zugriffsprotokolleinträge
 * durch Versicherten abrufen"); UC 4.5 signs with HBA/SMC-B, which a Primärsystem does
 * through the Konnektor (4.1.3, TAB_SYSLERP_024 I_SAK_Operations).
 */
export const USE_CASE_SUPPLEMENTS: Record<string, Product[]> = {
  '3.5': ['E-Rezept-Fachdienst'],
  '4.5': ['Konnektor'],
};

function useCaseProducts(ucNumber: string, ucText: string): Set<Product> {
  const major = ucNumber.split('.')[0];
  const psDefault: Product[] =
    major === '2' ? ['PS verordnend'] : major === '4' ? ['PS abgebend'] : ucNumber === '5.2' ? ALL_PS : [];
  if (major === '3' || ucNumber === '5.1') {
    if (PS_ANY.test(ucText) && !PS_VERORDNEND.test(ucText) && !PS_ABGEBEND.test(ucText)) {
      throw new CatalogueParseError(`UC ${ucNumber} mentions a Primärsystem without saying which`);
    }
  }
  const found = scanProducts(ucText, { psDefault });
  for (const p of USE_CASE_SUPPLEMENTS[ucNumber] ?? []) found.add(p);
  return found;
}

function interfaceProducts(chapter: string, text: string): Set<Product> {
  const found = new Set<Product>();
  if (/^4\.3\.[123]$/.test(chapter)) found.add('E-Rezept-Fachdienst');
  else if (/^4\.3\.[45]$/.test(chapter)) found.add('IDP');
  else throw new CatalogueParseError(`"Die Schnittstelle" outside chapter 4.3.1–4.3.5 (${chapter})`);
  const m = /Mit dieser Operation kann ([^.]*)/.exec(text);
  if (!m) throw new CatalogueParseError(`interface requirement in ${chapter} without "Mit dieser Operation kann …"`);
  const caller = m[1];
  if (/verordnende LEI|\bVerordnender\b/.test(caller)) found.add('PS verordnend');
  if (/abgebende LEI/.test(caller)) found.add('PS abgebend');
  if (/Versicherter|Vertreter/.test(caller)) found.add('FdV');
  if (/Authentisierungsmodul/.test(caller)) found.add('Authentisierungsmodul');
  if (/^der aufrufende Akteur\b/.test(caller)) {
    // E-Rezept-Nachricht: TAB_SYSLERP_040 admits Versicherter, Apotheker, Mitarbeiter Apotheke;
    // TAB_SYSLERP_022 (FdV) and TAB_SYSLERP_024 (PS abgebende LEI) list the operations.
    found.add('FdV');
    found.add('PS abgebend');
  }
  if (found.size < 2) throw new CatalogueParseError(`no caller recognised in "Mit dieser Operation kann ${caller}"`);
  return found;
}

export interface ProductInput {
  id: string;
  chapter: string;
  text: string;
  useCaseNumber: string | null;
  useCaseText: string | null;
}

export function productsFor(input: ProductInput): Product[] {
  const sentences = normativeSentences(input.text);
  if (sentences.length === 0) throw new CatalogueParseError(`${input.id}: no normative sentence`);
  const first = sentences[0].subject;
  let found: Set<Product>;
  if (/^Alle am Anwendungsfall "[^"]+" beteiligten Produkttypen und Komponenten$/.test(first)) {
    if (!input.useCaseNumber || input.useCaseText === null) {
      throw new CatalogueParseError(`${input.id}: use-case subject without a use-case table`);
    }
    found = useCaseProducts(input.useCaseNumber, input.useCaseText);
  } else if (first === 'Die Schnittstelle') {
    found = interfaceProducts(input.chapter, input.text);
  } else {
    found = subjectProducts(first);
  }
  for (const s of sentences.slice(1)) {
    // Only a subject in plain word order ("Der IDP MUSS …") names an addressee; in
    // "Falls der IDP …, MUSS das Authentisierungsmodul …" the addressee follows the keyword.
    if (!/^(?:Der|Die|Das|Ein|Eine|Jeder|Jede)\b/.test(s.subject)) continue;
    for (const p of subjectProducts(s.subject)) found.add(p);
  }
  if (found.size === 0) throw new CatalogueParseError(`${input.id}: no product recognised in subject "${first}"`);
  return order(found);
}
