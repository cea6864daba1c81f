/**
 * FHIR OperationOutcome of the simulated E-Rezept-Fachdienst: the error model of the inner
 * (VAU-protected) FHIR interface, with the issue codes and texts of the production Fachdienst
 * (eRP-FD/erp-processing-context) so a client system sees the same answers as in the TI (A_18498).
 *
 * Issue code by HTTP status (production's fixed mapping, OperationOutcome::httpCodeToOutcomeIssueType):
 *   400 invalid · 401 unknown · 403 forbidden · 404 not-found · 405 not-supported · 409 conflict ·
 *   410 processing · 415 value · 429 transient · every other status processing
 *
 * Texts used by the transport, authentication and routing layer, and where they come from:
 *
 * | status | text                                                         | source |
 * |--------|--------------------------------------------------------------|--------|
 * | 403    | endpoint is forbidden for professionOID <oid>                | ru-dumps Apotheke/apotheke_darf_dispensierinformationen_nicht_abrufen/010_Response_OperationOutcome.xml |
 * | 401    | JWT expired                                                  | production VauRequestHandler (JwtExpiredException) |
 * | 401    | JWT has invalid signature                                    | production VauRequestHandler (JwtInvalidSignatureException) |
 * | 401    | JWT has invalid format                                       | production VauRequestHandler (JwtInvalidFormatException) |
 * | 401    | JWT has invalid aud claim                                    | production VauRequestHandler (JwtInvalidAudClaimException) |
 * | 401    | JWT misses required claims                                   | production VauRequestHandler (JwtRequiredClaimException) |
 * | 400    | Authorization header is missing                              | production VauRequestHandler |
 * | 400    | invalid Authorization Bearer header field                    | production VauRequestHandler |
 * | 400    | Authorization header is invalid  (envelope token ≠ inner)    | production VauRequestHandler |
 * | 405    | no matching handler found.                                   | production VauRequestHandler (A_19030) |
 * | 500    | Internal server error.                                       | production VauRequestHandler (fixed text, no diagnostics) |
 * | 401    | JWT has invalid format  (acr other than gematik-ehealth-loa-high) | production JWT::checkRequiredClaims (A_19439: JwtInvalidFormatException) |
 * | 401    | JWT is not valid yet / JWT is no longer active at the IDP     | ours (production texts not public) |
 * | 400/413| inner HTTP parse errors (lib/http-message.ts)                | ours (production texts not public) |
 *
 * Workflow route modules add their own texts (with their dump file) where they throw FhirError.
 */
import { escapeAttr } from '../lib/xml';

export const FHIR_NS = 'http://hl7.org/fhir';
export const OPERATION_OUTCOME_PROFILE = 'http://hl7.org/fhir/StructureDefinition/OperationOutcome';

export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';

/** FHIR IssueType codes the Fachdienst uses. */
export type IssueCode =
  | 'invalid'
  | 'unknown'
  | 'forbidden'
  | 'not-found'
  | 'not-supported'
  | 'conflict'
  | 'processing'
  | 'value'
  | 'transient'
  | 'too-costly'
  | 'exception'
  | 'required'
  | 'security'
  | 'informational';

export interface OutcomeIssue {
  severity?: IssueSeverity;
  code: IssueCode;
  /** issue.details.text: the message the user sees. */
  text?: string;
  diagnostics?: string;
  expression?: string[];
}

/** The VAU-Error-Code values of production (outer response header, A_20703/A_20704). */
export type VauErrorCode = 'brute_force' | 'invalid_prescription' | 'invalid_dispense';

/** Production's fixed mapping from HTTP status to issue code. */
export function issueCodeForStatus(status: number): IssueCode {
  switch (status) {
    case 400:
      return 'invalid';
    case 401:
      return 'unknown';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 405:
      return 'not-supported';
    case 409:
      return 'conflict';
    case 410:
      return 'processing';
    case 415:
      return 'value';
    case 429:
      return 'transient';
    default:
      return 'processing';
  }
}

export interface FhirErrorOptions {
  diagnostics?: string;
  /** Issue code (default: production's mapping of the status). */
  code?: IssueCode;
  /** Further issues after the first (production sends e.g. two conflict issues for $accept). */
  moreIssues?: OutcomeIssue[];
  /** Sets the outer VAU-Error-Code header (brute_force on wrong AccessCode/Secret, …). */
  vauErrorCode?: VauErrorCode;
  /** Extra inner response headers (e.g. WWW-Authenticate). */
  headers?: Record<string, string>;
}

/**
 * An error answer of the inner FHIR interface: thrown anywhere below the router, rendered as an
 * OperationOutcome in the caller's format with this status.
 */
export class FhirError extends Error {
  override name = 'FhirError';
  readonly issues: OutcomeIssue[];
  readonly vauErrorCode?: VauErrorCode;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    text: string,
    opts: FhirErrorOptions = {},
  ) {
    super(text);
    this.issues = [
      { severity: 'error', code: opts.code ?? issueCodeForStatus(status), text, ...(opts.diagnostics !== undefined ? { diagnostics: opts.diagnostics } : {}) },
      ...(opts.moreIssues ?? []),
    ];
    this.vauErrorCode = opts.vauErrorCode;
    this.headers = opts.headers ?? {};
  }
}

export type FhirFormat = 'xml' | 'json';

export const FHIR_CONTENT_TYPE: Record<FhirFormat, string> = {
  xml: 'application/fhir+xml;charset=utf-8',
  json: 'application/fhir+json;charset=utf-8',
};

/** OperationOutcome as FHIR JSON (the shape production sends). */
export function operationOutcomeJson(issues: OutcomeIssue[]): Record<string, unknown> {
  return {
    resourceType: 'OperationOutcome',
    meta: { profile: [OPERATION_OUTCOME_PROFILE] },
    issue: issues.map((i) => ({
      severity: i.severity ?? 'error',
      code: i.code,
      ...(i.text !== undefined ? { details: { text: i.text } } : {}),
      ...(i.diagnostics !== undefined ? { diagnostics: i.diagnostics } : {}),
      ...(i.expression?.length ? { expression: i.expression } : {}),
    })),
  };
}

/** OperationOutcome as FHIR XML (element order as in the ru-dumps). */
export function operationOutcomeXml(issues: OutcomeIssue[]): string {
  const v = (name: string, value: string) => `<${name} value="${escapeAttr(value)}"/>`;
  const issueXml = issues
    .map(
      (i) =>
        '<issue>' +
        v('severity', i.severity ?? 'error') +
        v('code', i.code) +
        (i.text !== undefined ? `<details>${v('text', i.text)}</details>` : '') +
        (i.diagnostics !== undefined ? v('diagnostics', i.diagnostics) : '') +
        (i.expression ?? []).map((e) => v('expression', e)).join('') +
        '</issue>',
    )
    .join('');
  return `<OperationOutcome xmlns="${FHIR_NS}"><meta>${v('profile', OPERATION_OUTCOME_PROFILE)}</meta>${issueXml}</OperationOutcome>`;
}

export function renderOperationOutcome(issues: OutcomeIssue[], format: FhirFormat): { contentType: string; body: string } {
  return format === 'json'
    ? { contentType: FHIR_CONTENT_TYPE.json, body: JSON.stringify(operationOutcomeJson(issues)) }
    : { contentType: FHIR_CONTENT_TYPE.xml, body: `<?xml version="1.0" encoding="utf-8"?>\n${operationOutcomeXml(issues)}` };
}
