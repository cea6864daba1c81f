/**
 * The part of the requirement catalogue (reports/catalogue/catalogue.ts) that
 * the gate, verify() and the traceability report read. Structural, so unit
 * tests can hand in a small fixture catalogue.
 */
import { loadCatalogue } from '../catalogue/catalogue';

export interface CatalogueRequirement {
  id: string;
  title: string;
  chapter: { number: string; title: string };
  classification: 'executable' | 'documented';
  justification?: string;
  /** Use case the requirement belongs to (`UC_2.1`), or null. */
  useCase: string | null;
  products?: readonly string[];
  obligations?: readonly string[];
}

export interface CatalogueUseCase {
  id: string;
  name: string;
}

export interface CatalogueInfraCheck {
  id: string;
  title: string;
  source: string;
}

export interface CatalogueView {
  requirements: readonly CatalogueRequirement[];
  useCases: readonly CatalogueUseCase[];
  infrastructure: readonly CatalogueInfraCheck[];
  isKnownRequirement(id: string): boolean;
  isKnownUseCase(id: string): boolean;
  isKnownInfrastructureCheck(id: string): boolean;
}

/** Builds the lookup functions for plain catalogue data (fixtures). */
export function catalogueFromData(data: {
  requirements: readonly CatalogueRequirement[];
  useCases: readonly CatalogueUseCase[];
  infrastructure: readonly CatalogueInfraCheck[];
}): CatalogueView {
  const req = new Set(data.requirements.map((r) => r.id));
  const uc = new Set(data.useCases.map((u) => u.id));
  const infra = new Set(data.infrastructure.map((i) => i.id));
  return {
    ...data,
    isKnownRequirement: (id) => req.has(id),
    isKnownUseCase: (id) => uc.has(id),
    isKnownInfrastructureCheck: (id) => infra.has(id),
  };
}

let cached: CatalogueView | undefined;

/**
 * The project's catalogue (reports/catalogue/catalogue.ts → loadCatalogue()),
 * loaded once per process.
 */
export function projectCatalogue(): CatalogueView {
  cached ??= loadCatalogue();
  return cached;
}
