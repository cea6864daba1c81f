/**
 * Typed errors of the simulated FdV. Token and DataMatrix refusals stay `ERezeptTokenError` /
 * `DataMatrixError` (simulators/lib), message builders `CommunicationError`; the FdV adds:
 */
import { parseFhir, type FhirJson } from '../lib/fhir';

/** The Fachdienst answered with an error: inner HTTP status + OperationOutcome text. */
export class FdvError extends Error {
  override name = 'FdvError';
  constructor(
    /** e.g. "GET /Task", "Task.$abort", "POST /Communication". */
    readonly operation: string,
    /** Inner HTTP status (the outer one for VAU-level errors; 0 when the Fachdienst was not reachable). */
    readonly status: number,
    /** OperationOutcome.issue[0].details.text, else diagnostics, else the body's start. */
    readonly text: string,
    readonly details: { code?: string; diagnostics?: string; outcome?: FhirJson; prescriptionId?: string; vauErrorCode?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(`${operation}${details.prescriptionId ? ` ${details.prescriptionId}` : ''}: HTTP ${status} ${text}`, options);
  }
}

/** No access token: the insured's IDP login with the eGK failed (cause: the IDP/authenticator/card error). */
export class FdvLoginError extends Error {
  override name = 'FdvLoginError';
}

/** Bad use of the FdV (unknown prescription, no AccessCode for a token, malformed token file). */
export class FdvUsageError extends Error {
  override name = 'FdvUsageError';
}

/** The FdvError of an answer: the OperationOutcome's first issue when the body is one. */
export function errorOfAnswer(operation: string, r: { status: number; text: string; contentType?: string; vauErrorCode?: string }, prescriptionId?: string): FdvError {
  let text = r.text.slice(0, 300) || `HTTP ${r.status}`;
  let code: string | undefined;
  let diagnostics: string | undefined;
  let outcome: FhirJson | undefined;
  try {
    const oo = parseFhir(r.text, r.contentType);
    if (oo.resourceType === 'OperationOutcome') {
      outcome = oo;
      const issue = ((oo.issue as FhirJson[] | undefined) ?? [])[0];
      const details = issue?.details as FhirJson | undefined;
      diagnostics = typeof issue?.diagnostics === 'string' ? issue.diagnostics : undefined;
      text = (typeof details?.text === 'string' && details.text) || diagnostics || text;
      code = typeof issue?.code === 'string' ? issue.code : undefined;
    }
  } catch {
    // not FHIR: keep the text
  }
  return new FdvError(operation, r.status, text, {
    ...(code ? { code } : {}),
    ...(diagnostics && diagnostics !== text ? { diagnostics } : {}),
    ...(outcome ? { outcome } : {}),
    ...(prescriptionId ? { prescriptionId } : {}),
    ...(r.vauErrorCode ? { vauErrorCode: r.vauErrorCode } : {}),
  });
}
