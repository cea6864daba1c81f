/**
 * What a client system (PVS, AVS) keeps of the Fachdienst's last answers, for display and diagnosis:
 * operation, HTTP status and the OperationOutcome's texts — one definition for every client.
 */
import type { FhirJson } from './fhir';

/** One answer of the Fachdienst: operation, HTTP status, OperationOutcome texts and diagnostics, arrival. */
export interface FachdienstAnswer {
  operation: string;
  status: number;
  /** OperationOutcome issue texts (details.text, else diagnostics); empty for other resources. */
  texts: string[];
  /** OperationOutcome issue diagnostics, where given. */
  diagnostics: string[];
  /** When the answer arrived (process.hrtime in ns, comparable across the actors of one process). */
  at: bigint;
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** The issue texts (details.text, else diagnostics) and the diagnostics of an OperationOutcome; empty for anything else. */
export function outcomeTextsOf(resource: FhirJson | undefined): { texts: string[]; diagnostics: string[] } {
  if (!resource || resource.resourceType !== 'OperationOutcome') return { texts: [], diagnostics: [] };
  const issues = (resource.issue as FhirJson[] | undefined) ?? [];
  return {
    texts: issues.map((i) => (i.details as FhirJson | undefined)?.text ?? i.diagnostics).filter(nonEmpty),
    diagnostics: issues.map((i) => i.diagnostics).filter(nonEmpty),
  };
}
