/**
 * The HTTP client steps use to talk to TI services through their real
 * interfaces (node:http / node:https, so a TLS trust anchor can be passed).
 *
 * Network faults and timeouts become EnvironmentError (Allure: broken), with
 * the service, method and URL in the message. An HTTP status is never an
 * error here: whether a status is right is for verify() to decide. Only
 * `adminJson` (harness-only admin APIs, DESIGN §1) treats non-2xx as an
 * environment fault, because the admin API is not the system under test.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { EnvironmentError, describeError } from './errors';

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Serialised as the body with content-type application/json. */
  json?: unknown;
  /** Whole-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Extra trust anchors (PEM) for https. */
  ca?: string | string[];
  /** Label used in error messages, e.g. "PKI". */
  service?: string;
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

export function httpRequest(url: string, opts: HttpRequestOptions = {}): Promise<HttpResponse> {
  const method = (opts.method ?? (opts.body !== undefined || opts.json !== undefined ? 'POST' : 'GET')).toUpperCase();
  const label = `${opts.service ? `${opts.service}: ` : ''}${method} ${url}`;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new EnvironmentError(`${label}: not a URL`));
  }
  const headers: Record<string, string> = { ...opts.headers };
  let body: Buffer | undefined;
  if (opts.json !== undefined) {
    body = Buffer.from(JSON.stringify(opts.json), 'utf8');
    headers['content-type'] ??= 'application/json';
  } else if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : Buffer.from(opts.body);
  }
  if (body) headers['content-length'] = String(body.length);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const lib = target.protocol === 'https:' ? https : http;

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(e instanceof EnvironmentError ? e : new EnvironmentError(`${label} failed: ${describeError(e)}`, { cause: e }));
    };
    const req = lib.request(target, { method, headers, ...(opts.ca && target.protocol === 'https:' ? { ca: opts.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const buf = Buffer.concat(chunks);
        resolve({
          url,
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: buf,
          text: () => buf.toString('utf8'),
          json: <T>() => JSON.parse(buf.toString('utf8')) as T,
        });
      });
    });
    const timer = setTimeout(() => {
      const e = new Error(`no complete response within ${timeoutMs} ms`);
      e.name = 'TimeoutError';
      fail(e);
    }, timeoutMs);
    req.on('error', fail);
    req.end(body);
  });
}

/**
 * Calls a harness-only admin API (JSON in, JSON out). Any failure, including
 * a non-2xx status, is an environment fault: the admin API is not under test.
 */
export async function adminJson<T>(url: string, payload: unknown, opts: Omit<HttpRequestOptions, 'json' | 'body'> = {}): Promise<T> {
  const res = await httpRequest(url, { method: 'POST', ...opts, json: payload });
  const label = `${opts.service ? `${opts.service} ` : ''}admin API POST ${url}`;
  if (res.status < 200 || res.status >= 300) {
    throw new EnvironmentError(`${label} answered ${res.status}: ${res.text().slice(0, 500)}`);
  }
  try {
    return res.text() ? res.json<T>() : (undefined as T);
  } catch (e) {
    throw new EnvironmentError(`${label} did not answer JSON: ${describeError(e)}`, { cause: e });
  }
}
