/**
 * What a client system (PVS, AVS) keeps of the Fachdienst's last answers, for display and diagnosis:
 * operation, HTTP status and the OperationOutcome's texts — one definition for every client.
 */
import { parseFhir, type FhirJson, type FhirResource } from './fhir';

/** One answer of the Fachdienst: operation, HTTP status, OperationOutcome texts and diagnostics, arrival. */
export interface FachdienstAnswer {
  operation: string;
  status: number;
  /** OperationOutcome issue texts (details.text, else diagnostics); empty for other resources. */
  texts: string[];
  /** OperationOutcome issue diagnostics, where given. */
  diagnostics: string[];
  /** Texts of the answer's Warning headers (e.g. $activate 252 "Ungültige Arztnummer …"), where given. */
  warnings?: string[];
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

/** Header values arrive as latin1 code units; the Fachdienst sends UTF-8 bytes ("Ungültige …"): decode them when they are valid UTF-8. */
function utf8FromHeaderValue(v: string): string {
  if (!/[\x80-\xff]/.test(v)) return v;
  const decoded = Buffer.from(v, 'latin1').toString('utf8');
  return decoded.includes('\ufffd') ? v : decoded;
}

/**
 * The texts of Warning header values as the Fachdienst sends them: "<code> <agent> <text>" (production
 * writes the text without quotes, as UTF-8 bytes; a quoted RFC 7234 text is unquoted too).
 */
export function warningTextsOf(value: string | string[] | undefined): string[] {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values
    .map(utf8FromHeaderValue)
    .map((v) => /^\s*\d{3}\s+\S+\s+(.*)$/.exec(v)?.[1]?.trim() ?? v.trim())
    .map((t) => (t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t))
    .filter(nonEmpty);
}

/** The FHIR resource in an inner answer of the Fachdienst, or undefined when there is no (parsable) body. */
export function fhirBodyOf(r: { body: Buffer; text(): string; headers: Record<string, string> }): FhirResource | undefined {
  if (!r.body.length) return undefined;
  try {
    return parseFhir(r.text(), r.headers['content-type']);
  } catch {
    return undefined;
  }
}
