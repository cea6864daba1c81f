/**
 * The inner HTTP/1.1 messages of the VAU transport (RFC 9112 message syntax, strict):
 *
 *   request  = METHOD SP request-target SP "HTTP/1.1" CRLF *( field-name ":" OWS field-value OWS CRLF ) CRLF body
 *   response = "HTTP/1.1" SP status SP reason CRLF *( header CRLF ) CRLF body
 *
 * The body is framed by Content-Length only (the VAU plaintext is one complete message, so there is
 * no chunked coding): a request with a body needs a Content-Length that equals the bytes after the
 * header block. Anything else — a bare LF, a header without colon, obs-fold, a second
 * Content-Length, Transfer-Encoding, a target not starting with "/" — is malformed and answered
 * with 400; a declared body above the size limit with 413 (ParseError.status).
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

export interface InnerHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export class InnerHttpParseError extends Error {
  override name = 'InnerHttpParseError';
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
  }
}

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
/** Upper bound of the request line plus header block (production proxies allow similar sizes). */
export const MAX_INNER_HEADER_BYTES = 64 * 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const METHOD = /^[A-Z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Parses one inner request; `maxBodyBytes` bounds the declared body (413 beyond it). */
export function parseInnerRequest(raw: Buffer, maxBodyBytes: number): InnerHttpRequest {
  const fail = (message: string): never => {
    throw new InnerHttpParseError(400, `malformed inner HTTP request: ${message}`);
  };
  const headEnd = raw.indexOf(HEADER_END);
  if (headEnd < 0) {
    if (raw.length > MAX_INNER_HEADER_BYTES) fail(`header block exceeds ${MAX_INNER_HEADER_BYTES} bytes`);
    fail('header block is not terminated by CRLF CRLF');
  }
  if (headEnd > MAX_INNER_HEADER_BYTES) fail(`header block exceeds ${MAX_INNER_HEADER_BYTES} bytes`);
  const head = raw.subarray(0, headEnd).toString('latin1');
  const lines = head.split('\r\n');
  if (lines.some((l) => l.includes('\n') || l.includes('\r'))) fail('bare CR or LF in the header block');
  const requestLine = lines[0];
  const parts = requestLine.split(' ');
  if (parts.length !== 3) fail(`request line "${requestLine.slice(0, 80)}" is not "METHOD SP target SP HTTP/1.1"`);
  const [method, target, version] = parts;
  if (!METHOD.test(method)) fail(`method "${method.slice(0, 20)}" is not an upper-case token`);
  if (version !== 'HTTP/1.1') fail(`version "${version.slice(0, 20)}", expected HTTP/1.1`);
  if (!target.startsWith('/') || /[\s\x00-\x1f\x7f]/.test(target)) fail('request target must be an origin-form path starting with "/"');
  let url: URL;
  try {
    url = new URL(target, 'http://inner.invalid');
  } catch {
    return fail(`request target "${target.slice(0, 80)}" is not a valid path`);
  }
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
      if (!/^[0-9]{1,10}$/.test(value)) fail(`Content-Length "${value.slice(0, 20)}" is not a number`);
      contentLength = Number(value);
    }
    if (key === 'transfer-encoding') fail('Transfer-Encoding is not supported inside the VAU (use Content-Length)');
    headers[key] = value;
  }
  const body = raw.subarray(headEnd + HEADER_END.length);
  if (contentLength !== undefined && contentLength > maxBodyBytes) {
    throw new InnerHttpParseError(413, `inner request body of ${contentLength} bytes exceeds the limit of ${maxBodyBytes} bytes`);
  }
  if (contentLength === undefined && body.length > 0) fail(`body of ${body.length} bytes without Content-Length`);
  if (contentLength !== undefined && body.length !== contentLength) {
    fail(`Content-Length ${contentLength} does not match the ${body.length} body bytes`);
  }
  return { method, target, path: url.pathname, query: url.searchParams, headers, body: Buffer.from(body) };
}

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

/** "HTTP/1.1 <status> <reason>" CRLF headers (with Content-Length) CRLF body. */
export function serializeInnerResponse(r: InnerHttpResponse): Buffer {
  const lines = [`HTTP/1.1 ${r.status} ${reasonPhrase(r.status)}`];
  for (const [k, v] of Object.entries(r.headers)) {
    if (k.toLowerCase() === 'content-length') continue;
    lines.push(`${k}: ${v}`);
  }
  lines.push(`Content-Length: ${r.body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), HEADER_END, r.body]);
}

