/**
 * The E-Rezept-Token and the text a DataMatrix code carries.
 *
 * Facts (gemSysL_eRp A_18614/A_18789; gematik api-erp "2D-Code für E-Rezept-Token",
 * A_19554, A_19553-01, A_24571, A_22078):
 * - a token is the string `Task/<PrescriptionID>/$accept?ac=<AccessCode>`;
 * - a DataMatrix code carries the JSON object `{"urls":[token, …]}` with one to
 *   three tokens (compact, no blanks);
 * - the PrescriptionID is `aaa.bbb.bbb.bbb.bbb.cc`: flow type `aaa`, a 12-digit
 *   sequence, and two check digits `cc` over the 15 digits (ISO 7064 MOD 97-10);
 * - the AccessCode is 32 random bytes written as 64 hex digits (A_18520);
 * - a pharmacy system validates scanned content before using it (A_22078):
 *   `parseDataMatrixPayload` is that validation, strict, with typed errors.
 *
 * This module is pure (no I/O); `datamatrix.ts` turns the payload into images.
 */

export const MAX_TOKENS_PER_CODE = 3;
/** Scanned text longer than this is refused before JSON parsing (three tokens take about 320 characters). */
export const MAX_PAYLOAD_LENGTH = 4096;

const PRESCRIPTION_ID_RE = /^(\d{3})\.(\d{3})\.(\d{3})\.(\d{3})\.(\d{3})\.(\d{2})$/;
const ACCESS_CODE_RE = /^[0-9a-f]{64}$/;
const TOKEN_RE = /^Task\/([^/]*)\/\$accept\?ac=(.*)$/s;
const MAX_SEQUENCE = 999_999_999_999n;

export type ERezeptTokenErrorCode =
  | 'INVALID_PRESCRIPTION_ID'
  | 'INVALID_ACCESS_CODE'
  | 'INVALID_TOKEN'
  | 'NOT_EREZEPT_PAYLOAD'
  | 'NO_TOKENS'
  | 'TOO_MANY_TOKENS'
  | 'DUPLICATE_TOKEN';

/** Every refusal of this module: a stable `code` for programs, a message for humans. */
export class ERezeptTokenError extends Error {
  override name = 'ERezeptTokenError';
  constructor(
    readonly code: ERezeptTokenErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ERezeptToken {
  /** `aaa.bbb.bbb.bbb.bbb.cc` with valid check digits. */
  prescriptionId: string;
  /** 64 lower-case hex digits. */
  accessCode: string;
}

/** Short, printable rendering of untrusted input for error messages. */
function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 90 ? `${text.slice(0, 87)}…` : text;
}

/** ISO 7064 MOD 97-10 check digits (two characters) for the 15 digits of flow type and sequence. */
export function prescriptionIdCheckDigits(fifteenDigits: string): string {
  if (!/^\d{15}$/.test(fifteenDigits)) {
    throw new ERezeptTokenError('INVALID_PRESCRIPTION_ID', `check digits need exactly 15 digits, got ${show(fifteenDigits)}`);
  }
  const check = 98n - ((BigInt(fifteenDigits) * 100n) % 97n);
  return check.toString().padStart(2, '0');
}

/** Why `id` is not a valid PrescriptionID, or undefined when it is. */
export function prescriptionIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return `PrescriptionID must be a string, got ${typeof id}`;
  const m = PRESCRIPTION_ID_RE.exec(id);
  if (!m) return `PrescriptionID ${show(id)} does not have the form ddd.ddd.ddd.ddd.ddd.dd`;
  const digits = m.slice(1, 6).join('');
  const expected = prescriptionIdCheckDigits(digits);
  if (m[6] !== expected) return `PrescriptionID ${id} has check digits ${m[6]}, ISO 7064 MOD 97-10 gives ${expected}`;
  return undefined;
}

export function isValidPrescriptionId(id: unknown): id is string {
  return prescriptionIdProblem(id) === undefined;
}

export function assertPrescriptionId(id: unknown): asserts id is string {
  const problem = prescriptionIdProblem(id);
  if (problem) throw new ERezeptTokenError('INVALID_PRESCRIPTION_ID', problem);
}

/** Flow type (first three digits, e.g. "160") of a valid PrescriptionID. */
export function flowTypeOf(prescriptionId: string): string {
  assertPrescriptionId(prescriptionId);
  return prescriptionId.slice(0, 3);
}

/** Builds `aaa.bbb.bbb.bbb.bbb.cc` from a flow type (0..999) and a sequence number (0..10^12-1). */
export function buildPrescriptionId(flowType: number | string, sequence: number | bigint): string {
  const flow = String(flowType);
  if (!/^\d{1,3}$/.test(flow)) throw new ERezeptTokenError('INVALID_PRESCRIPTION_ID', `flow type ${show(flowType)} is not 1 to 3 digits`);
  if (typeof sequence === 'number' && !Number.isSafeInteger(sequence)) {
    throw new ERezeptTokenError('INVALID_PRESCRIPTION_ID', `sequence ${show(sequence)} is not a safe integer`);
  }
  const seq = BigInt(sequence);
  if (seq < 0n || seq > MAX_SEQUENCE) {
    throw new ERezeptTokenError('INVALID_PRESCRIPTION_ID', `sequence ${seq} is outside 0..${MAX_SEQUENCE}`);
  }
  const digits = flow.padStart(3, '0') + seq.toString().padStart(12, '0');
  const groups = digits.match(/\d{3}/g) as string[];
  return `${groups.join('.')}.${prescriptionIdCheckDigits(digits)}`;
}

export function isValidAccessCode(accessCode: unknown): accessCode is string {
  return typeof accessCode === 'string' && ACCESS_CODE_RE.test(accessCode);
}

export function assertAccessCode(accessCode: unknown): asserts accessCode is string {
  if (!isValidAccessCode(accessCode)) {
    throw new ERezeptTokenError(
      'INVALID_ACCESS_CODE',
      `AccessCode ${show(accessCode)} is not 64 lower-case hex digits (32 bytes)`,
    );
  }
}

/** `Task/<PrescriptionID>/$accept?ac=<AccessCode>` after validating both parts. */
export function formatToken(token: ERezeptToken): string {
  assertPrescriptionId(token.prescriptionId);
  assertAccessCode(token.accessCode);
  return `Task/${token.prescriptionId}/$accept?ac=${token.accessCode}`;
}

/** Strict parse of one token string; refuses anything but the exact form with valid parts. */
export function parseToken(text: unknown): ERezeptToken {
  if (typeof text !== 'string') {
    throw new ERezeptTokenError('INVALID_TOKEN', `E-Rezept-Token must be a string, got ${typeof text}`);
  }
  const m = TOKEN_RE.exec(text);
  if (!m) {
    throw new ERezeptTokenError('INVALID_TOKEN', `E-Rezept-Token ${show(text)} does not have the form Task/<PrescriptionID>/$accept?ac=<AccessCode>`);
  }
  const [, prescriptionId, accessCode] = m;
  assertPrescriptionId(prescriptionId);
  assertAccessCode(accessCode);
  return { prescriptionId, accessCode };
}

function checkTokenCount(count: number): void {
  if (count < 1) throw new ERezeptTokenError('NO_TOKENS', 'a DataMatrix code carries at least one E-Rezept-Token');
  if (count > MAX_TOKENS_PER_CODE) {
    throw new ERezeptTokenError('TOO_MANY_TOKENS', `a DataMatrix code carries at most ${MAX_TOKENS_PER_CODE} E-Rezept-Tokens, got ${count}`);
  }
}

function checkNoDuplicates(tokens: readonly ERezeptToken[]): void {
  const seen = new Set<string>();
  for (const t of tokens) {
    if (seen.has(t.prescriptionId)) {
      throw new ERezeptTokenError('DUPLICATE_TOKEN', `PrescriptionID ${t.prescriptionId} appears more than once in one DataMatrix code`);
    }
    seen.add(t.prescriptionId);
  }
}

/** The compact JSON text `{"urls":[…]}` for one DataMatrix code (1 to 3 tokens, distinct prescriptions). */
export function buildDataMatrixPayload(tokens: readonly ERezeptToken[]): string {
  if (!Array.isArray(tokens)) throw new ERezeptTokenError('NO_TOKENS', 'tokens must be an array');
  checkTokenCount(tokens.length);
  const urls = tokens.map(formatToken);
  checkNoDuplicates(tokens);
  return JSON.stringify({ urls });
}

/**
 * Strict parse of scanned DataMatrix text: a JSON object with exactly the member
 * `urls`, an array of 1 to 3 valid, distinct tokens. JSON escapes are decoded
 * (the production printers write `=` as `\u003d`).
 */
export function parseDataMatrixPayload(text: unknown): ERezeptToken[] {
  if (typeof text !== 'string') {
    throw new ERezeptTokenError('NOT_EREZEPT_PAYLOAD', `DataMatrix content must be text, got ${typeof text}`);
  }
  if (text.length > MAX_PAYLOAD_LENGTH) {
    throw new ERezeptTokenError('NOT_EREZEPT_PAYLOAD', `DataMatrix content of ${text.length} characters exceeds ${MAX_PAYLOAD_LENGTH}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ERezeptTokenError('NOT_EREZEPT_PAYLOAD', `DataMatrix content is not JSON: ${show(text)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ERezeptTokenError('NOT_EREZEPT_PAYLOAD', 'DataMatrix content is not a JSON object {"urls":[…]}');
  }
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== 'urls') {
    throw new ERezeptTokenError('NOT_EREZEPT_PAYLOAD', `DataMatrix content must have exactly the member "urls", found ${show(keys.join(','))}`);
  }
  const urls = (value as { urls: unknown }).urls;
  if (!Array.isArray(urls)) throw new ERezeptTokenError('NOT_EREZEPT_PAYLOAD', '"urls" must be an array of E-Rezept-Tokens');
  checkTokenCount(urls.length);
  const tokens = urls.map(parseToken);
  checkNoDuplicates(tokens);
  return tokens;
}
