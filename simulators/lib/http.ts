/**
 * Small shared HTTP(S) server helper for the simulators: routes with path parameters, a request body
 * size limit, timeouts, and clear error replies (plain text for TI interfaces, JSON `{error, message}`
 * for admin APIs), so that bad input never crashes or hangs a simulator.
 *
 *   const server = await startHttpServer({ host, port, routes: [
 *     { method: 'GET', path: '/hello/:name', handler: (ctx) => text(200, `hi ${ctx.params.name}`) },
 *   ]});
 *   … await server.close();
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ADMIN_PATH } from './ports';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export type ErrorFormat = 'text' | 'json';

/** An error that becomes an HTTP reply with this status and message. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    /** Short machine-readable code for JSON replies (default derived from the status). */
    readonly code?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
}

export interface RequestContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  method: string;
  url: URL;
  /** Path parameters: `:name` segments, and `*` for the rest of a path ending in `/*`. */
  params: Record<string, string>;
  /** The request body (empty for GET/HEAD), already limited to the route's size limit. */
  body: Buffer;
  /** The body parsed as JSON; throws HttpError 400 when it is not JSON. */
  json<T = unknown>(): T;
}

export type Handler = (ctx: RequestContext) => HttpResponse | undefined | void | Promise<HttpResponse | undefined | void>;

export interface Route {
  method: string | string[];
  /** "/exact", "/items/:id", "/files/*" (rest of the path in params["*"]) or a RegExp (groups → params). */
  path: string | RegExp;
  handler: Handler;
  /** Overrides the server's body size limit for this route. */
  maxBodyBytes?: number;
  /** How errors on this route are rendered (default: json under /__admin, text elsewhere). */
  errorFormat?: ErrorFormat;
}

export interface HttpServerOptions {
  host: string;
  /** 0 for an ephemeral port. */
  port: number;
  routes: Route[];
  /** Serve HTTPS with these options (key, cert, ca, requestCert, …); plain HTTP when absent. */
  tls?: https.ServerOptions;
  maxBodyBytes?: number;
  /** Time a client has to send a complete request (default 30 s). */
  requestTimeoutMs?: number;
  log?: (message: string) => void;
  /** Name used in log lines. */
  name?: string;
}

export interface HttpServerHandle {
  server: http.Server | https.Server;
  host: string;
  port: number;
  /** Base URL, e.g. http://127.0.0.1:8440 */
  url: string;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Response helpers
// ---------------------------------------------------------------------------

export function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: `${JSON.stringify(value, null, 2)}\n`,
  };
}

export function text(status: number, message: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body: message.endsWith('\n') ? message : `${message}\n` };
}

export function bytes(status: number, contentType: string, body: Buffer, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': contentType, ...headers }, body };
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  500: 'internal_error',
};

export function errorResponse(status: number, message: string, format: ErrorFormat, code?: string, headers: Record<string, string> = {}): HttpResponse {
  const error = code ?? STATUS_CODES[status] ?? `http_${status}`;
  return format === 'json' ? json(status, { error, message }, headers) : text(status, message, headers);
}

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

interface CompiledRoute extends Route {
  methods: string[];
  match(pathname: string): Record<string, string> | undefined;
}

function compilePath(p: string | RegExp): (pathname: string) => Record<string, string> | undefined {
  if (p instanceof RegExp) {
    return (pathname) => {
      const m = p.exec(pathname);
      if (!m) return undefined;
      const params: Record<string, string> = { ...(m.groups ?? {}) };
      m.slice(1).forEach((v, i) => (params[String(i)] = v));
      return params;
    };
  }
  const rest = p.endsWith('/*');
  const parts = (rest ? p.slice(0, -2) : p).split('/').filter(Boolean);
  return (pathname) => {
    const segs = pathname.split('/').filter(Boolean);
    if (rest ? segs.length <= parts.length : segs.length !== parts.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      let seg: string;
      try {
        seg = decodeURIComponent(segs[i]);
      } catch {
        return undefined;
      }
      if (parts[i].startsWith(':')) params[parts[i].slice(1)] = seg;
      else if (parts[i] !== seg) return undefined;
    }
    // The rest stays raw (percent-encoded): e.g. OCSP GET puts base64 with "/" and "+" there.
    if (rest) params['*'] = pathname.split('/').filter(Boolean).slice(parts.length).join('/');
    return params;
  };
}

function defaultErrorFormat(pathname: string): ErrorFormat {
  return pathname === ADMIN_PATH || pathname.startsWith(`${ADMIN_PATH}/`) ? 'json' : 'text';
}

/** Reads the body up to `limit` bytes; rejects with HttpError 413 beyond it. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new HttpError(413, `request body too large: ${declared} bytes (limit ${limit})`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        reject(new HttpError(413, `request body too large: more than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(new HttpError(400, `could not read request body: ${err.message}`));
    });
  });
}

function writeResponse(req: http.IncomingMessage, res: http.ServerResponse, r: HttpResponse): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
  const headers: Record<string, string | string[]> = { ...(r.headers ?? {}) };
  headers['content-length'] = String(body.length);
  res.writeHead(r.status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Bytes a client may keep sending after a 413 before the connection is cut. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;

export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServerHandle> {
  const log = opts.log ?? (() => undefined);
  const name = opts.name ?? 'http';
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const routes: CompiledRoute[] = opts.routes.map((r) => ({
    ...r,
    methods: (Array.isArray(r.method) ? r.method : [r.method]).map((m) => m.toUpperCase()),
    match: compilePath(r.path),
  }));

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      writeResponse(req, res, errorResponse(400, 'malformed request URL', 'text'));
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    let format = defaultErrorFormat(url.pathname);
    try {
      let pathMatched = false;
      const allowed = new Set<string>();
      for (const route of routes) {
        const params = route.match(url.pathname);
        if (!params) continue;
        pathMatched = true;
        const methods = route.methods.includes('GET') ? [...route.methods, 'HEAD'] : route.methods;
        methods.forEach((m) => allowed.add(m));
        if (!methods.includes(method)) continue;
        format = route.errorFormat ?? format;
        const body = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req, route.maxBodyBytes ?? maxBody);
        const ctx: RequestContext = {
          req,
          res,
          method,
          url,
          params,
          body,
          json<T>(): T {
            if (!body.length) throw new HttpError(400, 'request body is empty (expected JSON)');
            try {
              return JSON.parse(body.toString('utf8')) as T;
            } catch (e) {
              throw new HttpError(400, `request body is not valid JSON: ${(e as Error).message}`);
            }
          },
        };
        const result = await route.handler(ctx);
        if (result) writeResponse(req, res, result);
        else if (!res.writableEnded) writeResponse(req, res, { status: 204 });
        return;
      }
      if (pathMatched) {
        throw new HttpError(405, `method ${method} not allowed on ${url.pathname} (allowed: ${[...allowed].join(', ')})`, undefined, {
          allow: [...allowed].join(', '),
        });
      }
      throw new HttpError(404, `not found: ${method} ${url.pathname}`);
    } catch (e) {
      if (e instanceof HttpError) {
        const headers: Record<string, string> = { ...(e.headers ?? {}) };
        if (e.status === 413) {
          headers.connection = 'close';
          drainThenClose(req);
        }
        writeResponse(req, res, errorResponse(e.status, e.message, format, e.code, headers));
      } else {
        log(`${name}: internal error on ${method} ${url.pathname}: ${(e as Error)?.stack ?? String(e)}`);
        writeResponse(req, res, errorResponse(500, `internal error: ${(e as Error)?.message ?? String(e)}`, format));
      }
    }
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((e) => {
      log(`${name}: failed to reply: ${String(e)}`);
      res.destroy();
    });
  };
  const server = opts.tls ? https.createServer(opts.tls, listener) : http.createServer(listener);
  server.requestTimeout = opts.requestTimeoutMs ?? 30_000;
  server.headersTimeout = Math.min(server.requestTimeout, 20_000);
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !(socket as { _httpMessage?: unknown })._httpMessage) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const msg = status === 431 ? 'request header fields too large' : status === 408 ? 'request timeout' : 'bad request';
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${msg.length + 1}\r\n\r\n${msg}\n`);
    } else {
      socket.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // A wildcard listen address is reached via loopback.
  const reachable = opts.host === '0.0.0.0' || opts.host === '' ? '127.0.0.1' : opts.host === '::' ? '::1' : opts.host;
  const hostForUrl = reachable.includes(':') ? `[${reachable}]` : reachable;
  const url = `${opts.tls ? 'https' : 'http'}://${hostForUrl}:${address.port}`;
  let closing: Promise<void> | undefined;
  return {
    server,
    host: opts.host,
    port: address.port,
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 200).unref();
      });
      return closing;
    },
  };
}

/** After an early 413: discard what the client still sends (bounded), then close the connection. */
function drainThenClose(req: http.IncomingMessage): void {
  let drained = 0;
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > MAX_DRAIN_BYTES) req.socket.destroy();
  });
  req.resume();
}
