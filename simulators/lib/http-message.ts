/**
 * The HTTP/1.1 messages inside the VAU transport, both directions (RFC 9112 message syntax, strict).
 * The Fachdienst parses requests and serializes responses; the VAU client serializes requests and
 * parses responses. Both use the one header-block parser and the one set of syntax rules below.
 *
 *   request  = METHOD SP request-target SP "HTTP/1.1" CRLF *( field-line CRLF ) CRLF body
 *   response = "HTTP/1.1" SP status-code [ SP reason-phrase ] CRLF *( field-line CRLF ) CRLF body
 *   field-line = field-name ":" OWS field-value OWS      (field-name a token, no obs-fold)
 *
 * The body is framed by Content-Length only: the VAU plaintext is one complete message, so there is
 * no chunked coding and Transfer-Encoding is refused. At most one Content-Length, and it must equal
 * the bytes after the header block. A request without Content-Length has no body; a response without
 * one has the rest of the message as body. A bare CR or LF, a header line without colon, obs-fold,
 * a field name that is not a token, control characters in a value, a request target that is not
 * origin-form — all malformed: InnerHttpParseError with status 400 (what a server answers). A
 * header block above MAX_INNER_HEADER_BYTES is malformed too; a body above the caller's limit is
 * InnerHttpParseError 413.
 *
 * The serializers apply the same rules to what they write (a programming error throws TypeError,
 * so no header injection reaches the wire) and always frame the body with Content-Length.
 */

export interface InnerHttpRequest {
  method: string;
  /** The request target as sent (origin-form: path and query). */
  target: string;
  path: string;
  query: URLSearchParams;
  /** Header fields with lower-case names (the last of repeated fields; Content-Length may not repeat). */
  headers: Record<string, string>;
  body: Buffer;
}

/** What a client serializes: the request without the parsed views of the target. */
export type OutgoingInnerRequest = Pick<InnerHttpRequest, 'method' | 'target' | 'headers' | 'body'>;

export interface InnerHttpResponse {
  status: number;
  /** Parsed: lower-case names. Serialized: as given (Content-Length is always computed). */
  headers: Record<string, string>;
  body: Buffer;
}

type Direction = 'request' | 'response';

export class InnerHttpParseError extends Error {
  override name = 'InnerHttpParseError';
  constructor(
    /** What a server answers: 400 malformed, 413 body above the limit. */
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
  }
}

const CRLF = '\r\n';
const HEADER_END = Buffer.from(CRLF + CRLF, 'latin1');
/** Upper bound of the start line plus header block (production proxies allow similar sizes). */
export const MAX_INNER_HEADER_BYTES = 64 * 1024;
/** RFC 9110 token (field names). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Methods: upper-case tokens only (all registered methods are). */
const METHOD = /^[A-Z]+$/;
/** field-value and reason-phrase: HTAB, SP, VCHAR, obs-text. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const CONTENT_LENGTH = /^[0-9]{1,10}$/;
const STATUS_LINE = /^HTTP\/1\.1 ([1-5][0-9]{2})(?: (.*))?$/;
const TRANSFER_ENCODING_REFUSED = 'Transfer-Encoding is not supported inside the VAU (use Content-Length)';
/** Request methods whose empty body goes without Content-Length (the others always send one). */
const BODYLESS_METHODS = ['GET', 'HEAD', 'DELETE'];

function isOriginForm(target: string): boolean {
  return target.startsWith('/') && !/[\s\x00-\x1f\x7f]/.test(target);
}

// ------------------------------------------------------------------ parsing

interface ParsedMessage<T> {
  start: T;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * The one header-block parser: start line (by `parseStartLine`), field lines, Content-Length framing.
 * Errors: "malformed inner HTTP <direction>: …" (400), "inner <direction> body of N bytes exceeds …" (413).
 */
function parseMessage<T>(raw: Buffer, direction: Direction, maxBodyBytes: number, parseStartLine: (line: string, fail: (m: string) => never) => T): ParsedMessage<T> {
  const fail = (message: string): never => {
    throw new InnerHttpParseError(400, `malformed inner HTTP ${direction}: ${message}`);
  };
  const headEnd = raw.indexOf(HEADER_END);
  if (headEnd < 0) {
    if (raw.length > MAX_INNER_HEADER_BYTES) fail(`header block exceeds ${MAX_INNER_HEADER_BYTES} bytes`);
    fail('header block is not terminated by CRLF CRLF');
  }
  if (headEnd > MAX_INNER_HEADER_BYTES) fail(`header block exceeds ${MAX_INNER_HEADER_BYTES} bytes`);
  const lines = raw.subarray(0, headEnd).toString('latin1').split(CRLF);
  if (lines.some((l) => l.includes('\n') || l.includes('\r'))) fail('bare CR or LF in the header block');
  const start = parseStartLine(lines[0], fail);

  const headers: Record<string, string> = {};
  let contentLength: number | undefined;
  for (const line of lines.slice(1)) {
    if (line.startsWith(' ') || line.startsWith('\t')) fail('obsolete line folding in a header field');
    const colon = line.indexOf(':');
    if (colon <= 0) fail(`header line "${line.slice(0, 40)}" has no field name and colon`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) fail(`header field name "${name.slice(0, 40)}" is not a token`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!FIELD_VALUE.test(value)) fail(`header field ${name} has control characters`);
    const key = name.toLowerCase();
    if (key === 'content-length') {
      if (contentLength !== undefined) fail('more than one Content-Length');
      if (!CONTENT_LENGTH.test(value)) fail(`Content-Length "${value.slice(0, 20)}" is not a number`);
      contentLength = Number(value);
    }
    if (key === 'transfer-encoding') fail(TRANSFER_ENCODING_REFUSED);
    headers[key] = value;
  }

  const body = raw.subarray(headEnd + HEADER_END.length);
  const declared = contentLength ?? (direction === 'response' ? body.length : undefined);
  if (declared !== undefined && declared > maxBodyBytes) {
    throw new InnerHttpParseError(413, `inner ${direction} body of ${declared} bytes exceeds the limit of ${maxBodyBytes} bytes`);
  }
  if (contentLength === undefined && body.length > 0 && direction === 'request') fail(`body of ${body.length} bytes without Content-Length`);
  if (contentLength !== undefined && body.length !== contentLength) {
    fail(`Content-Length ${contentLength} does not match the ${body.length} body bytes`);
  }
  return { start, headers, body: Buffer.from(body) };
}

/** Parses one inner request (server side); `maxBodyBytes` bounds the declared body (413 beyond it). */
export function parseInnerRequest(raw: Buffer, maxBodyBytes: number): InnerHttpRequest {
  const { start, headers, body } = parseMessage(raw, 'request', maxBodyBytes, (line, fail) => {
    const parts = line.split(' ');
    if (parts.length !== 3) fail(`request line "${line.slice(0, 80)}" is not "METHOD SP target SP HTTP/1.1"`);
    const [method, target, version] = parts;
    if (!METHOD.test(method)) fail(`method "${method.slice(0, 20)}" is not an upper-case token`);
    if (version !== 'HTTP/1.1') fail(`version "${version.slice(0, 20)}", expected HTTP/1.1`);
    if (!isOriginForm(target)) fail('request target must be an origin-form path starting with "/"');
    let url: URL;
    try {
      url = new URL(target, 'http://inner.invalid');
    } catch {
      return fail(`request target "${target.slice(0, 80)}" is not a valid path`);
    }
    return { method, target, url };
  });
  return { method: start.method, target: start.target, path: start.url.pathname, query: start.url.searchParams, headers, body };
}

/** Parses one inner response (client side); `maxBodyBytes` bounds the body (413 beyond it). */
export function parseInnerResponse(raw: Buffer, maxBodyBytes: number): InnerHttpResponse {
  const { start, headers, body } = parseMessage(raw, 'response', maxBodyBytes, (line, fail) => {
    const m = STATUS_LINE.exec(line);
    if (!m) return fail(`status line "${line.slice(0, 60)}" is not "HTTP/1.1 SP status-code SP reason"`);
    if (m[2] !== undefined && !FIELD_VALUE.test(m[2])) fail('reason phrase has control characters');
    return Number(m[1]);
  });
  return { status: start, headers, body };
}

// ------------------------------------------------------------------ serializing

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

/** Start line CRLF field lines (caller's Content-Length replaced by the computed one) CRLF CRLF body. */
function serializeMessage(direction: Direction, startLine: string, headers: Record<string, string>, body: Buffer, withContentLength: boolean): Buffer {
  const refuse = (message: string): never => {
    throw new TypeError(`cannot serialize inner HTTP ${direction}: ${message}`);
  };
  const lines = [startLine];
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (key === 'content-length') continue;
    if (key === 'transfer-encoding') refuse(TRANSFER_ENCODING_REFUSED);
    if (!TOKEN.test(name)) refuse(`header field name "${name.slice(0, 40)}" is not a token`);
    if (!FIELD_VALUE.test(value)) refuse(`header field ${name} has control characters`);
    lines.push(`${name}: ${value}`);
  }
  if (withContentLength) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(lines.join(CRLF), 'latin1'), HEADER_END, body]);
}

/** "METHOD target HTTP/1.1" CRLF headers (Content-Length for bodies and for methods other than GET/HEAD/DELETE) CRLF body. */
export function serializeInnerRequest(r: OutgoingInnerRequest): Buffer {
  if (!METHOD.test(r.method)) throw new TypeError(`cannot serialize inner HTTP request: method "${r.method.slice(0, 20)}" is not an upper-case token`);
  if (!isOriginForm(r.target)) throw new TypeError('cannot serialize inner HTTP request: request target must be an origin-form path starting with "/"');
  const withContentLength = r.body.length > 0 || !BODYLESS_METHODS.includes(r.method);
  return serializeMessage('request', `${r.method} ${r.target} HTTP/1.1`, r.headers, r.body, withContentLength);
}

/** "HTTP/1.1 <status> <reason>" CRLF headers (with Content-Length) CRLF body. */
export function serializeInnerResponse(r: InnerHttpResponse): Buffer {
  if (!Number.isInteger(r.status) || r.status < 100 || r.status > 599) throw new TypeError(`cannot serialize inner HTTP response: status ${r.status} is not 100-599`);
  return serializeMessage('response', `HTTP/1.1 ${r.status} ${reasonPhrase(r.status)}`, r.headers, r.body, true);
}
