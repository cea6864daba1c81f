/**
 * Data types of the requirement catalogue (reports/catalogue).
 *
 * The generated files (requirements.json, use-cases.json) hold the `*Record`
 * shapes; the loader (catalogue.ts) merges the hand-kept classification into
 * them and hands out the `Requirement` / `UseCase` shapes.
 */

/** RFC 2119 levels as gemSysL_eRp 1.5.1 names them (singular forms). */
export const OBLIGATIONS = ['MUSS', 'DARF NICHT', 'SOLL', 'SOLL NICHT', 'KANN'] as const;
export type Obligation = (typeof OBLIGATIONS)[number];

/** Keyword forms as they occur in the text (singular and plural). */
export const KEYWORDS = [
  'MUSS',
  'MÜSSEN',
  'DARF NICHT',
  'DÜRFEN NICHT',
  'SOLL',
  'SOLLEN',
  'SOLL NICHT',
  'SOLLEN NICHT',
  'KANN',
  'KÖNNEN',
] as const;
export type Keyword = (typeof KEYWORDS)[number];

/** Plural forms fold onto the singular obligation level. */
export const KEYWORD_OBLIGATION: Record<Keyword, Obligation> = {
  MUSS: 'MUSS',
  MÜSSEN: 'MUSS',
  'DARF NICHT': 'DARF NICHT',
  'DÜRFEN NICHT': 'DARF NICHT',
  SOLL: 'SOLL',
  SOLLEN: 'SOLL',
  'SOLL NICHT': 'SOLL NICHT',
  'SOLLEN NICHT': 'SOLL NICHT',
  KANN: 'KANN',
  KÖNNEN: 'KANN',
};

/** Fixed product vocabulary (German, as the spec names the product types and providers). */
export const PRODUCTS = [
  'E-Rezept-Fachdienst',
  'IDP',
  'Authentisierungsmodul',
  'VZD',
  'FdV',
  'PS verordnend',
  'PS abgebend',
  'Konnektor',
  'TI-Service-Monitoring',
  'Anbieter E-Rezept-Fachdienst',
  'Anbieter IDP',
  'Anbieter FdV',
  'Fachanwendung E-Rezept (alle Produkttypen)',
] as const;
export type Product = (typeof PRODUCTS)[number];

/**
 * How a requirement's `useCase` was derived:
 * - `defines`: the requirement holds the use case's `Name UC x.y - …` table;
 * - `section`: it sits in the chapter-3 section of a use case defined by another requirement;
 * - `names`: it names exactly one use case (quoted use-case or operation name, or `UC x.y`).
 */
export type UseCaseBasis = 'defines' | 'section' | 'names';

export interface ChapterRef {
  /** Innermost numbered heading, e.g. "4.1.1.1". */
  number: string;
  title: string;
}

export interface RequirementRecord {
  id: string;
  title: string;
  chapter: ChapterRef;
  /** 1-based line of the `A_xxxxx - Title` line in the seed file. */
  sourceLine: number;
  /** Obligation levels present (plural forms folded), in the order of OBLIGATIONS. */
  obligations: Obligation[];
  /** Keyword forms literally present, in the order of KEYWORDS. */
  keywords: Keyword[];
  /** Addressed product types, in the order of PRODUCTS. */
  products: Product[];
  /** The use case it defines or belongs to (`UC_2.1`), or null. */
  useCase: string | null;
  useCaseBasis: UseCaseBasis | null;
  /** Every use case it defines or refers to, in use-case order. */
  relatedUseCases: string[];
  /** Full text between the title line and `[<=]` (marker removed), whitespace-normalised. */
  text: string;
}

export interface UseCaseRecord {
  /** Tag form: `UC_2.1`, `UC_PoPP_1c`. */
  id: string;
  /** `2.1`, `PoPP_1c`. */
  number: string;
  name: string;
  preconditions: string[];
  /** Kurzbeschreibung (Außenansicht); lines joined with "\n". */
  description: string;
  postconditions: string[];
  /** The A_ id whose table defines it, or null (PoPP). */
  definedBy: string | null;
  chapter: ChapterRef | null;
  /** Source file (relative to the shared folder) and, for tables, the line of the `Name UC` row. */
  source: string;
  sourceLine: number;
  /** How pre-/postconditions were obtained: verbatim from a table, or derived from prose. */
  origin: 'table' | 'prose';
}

export interface SourceInfo {
  document: string;
  version: string;
  /** Path relative to the project's `../shared` folder. */
  file: string;
  sha256: string;
}

export interface RequirementsFile {
  source: SourceInfo;
  count: number;
  /** Explanation of the `[<=]` markers that close no requirement. */
  notes: string[];
  requirements: RequirementRecord[];
}

export interface UseCasesFile {
  sources: SourceInfo[];
  count: number;
  useCases: UseCaseRecord[];
}
