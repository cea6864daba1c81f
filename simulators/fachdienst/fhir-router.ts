/**
 * The inner FHIR router of the Fachdienst: what happens to one decrypted (or, in plain mode, one
 * direct) HTTP request, in production's order (VauRequestHandler::handleInnerRequest):
 *
 *   1. Authorization header present, "Bearer <token>", and equal to the token of the VAU envelope
 *      (400 "Authorization header is missing" / "invalid Authorization Bearer header field" /
 *      "Authorization header is invalid")
 *   2. a route for method and path (else 405 "no matching handler found.")
 *   3. the access token (401, access-token.ts)
 *   4. the professionOID against the route's allow-list (403 "endpoint is forbidden for professionOID <oid>")
 *   5. the route's handler; a FhirError becomes its OperationOutcome, anything else 500
 *      "Internal server error." (fixed text, as production, so no personal data leaks)
 *
 * Route modules register `{method, pattern, roles, operation, handler}`; patterns are paths with
 * `:name` segments ("/Task/:id/$activate"); literal segments win over parameters. The response
 * format follows `_format`, then Accept (application/fhir+xml or +json), then the caller's role
 * (JSON for insured, XML otherwise — production's default).
 */
import type { SimClock } from '../lib/clock';
import { decodeJws, payloadJson } from '../lib/jose';
import type { AccessTokenClaims, AccessTokenVerifier } from './access-token';
import type { InnerHttpRequest, InnerHttpResponse } from '../lib/http-message';
import { FhirError, renderOperationOutcome, type FhirFormat } from './outcome';
import { callerKind, isAllowed, PROFESSION_OID, type CallerKind, type RoleAllowList } from './roles';
import type { FachdienstStore } from './store';
import type { Pki } from '../pki/hierarchy';
import type { TransportInfo } from './request-log';

/** Who is calling: the verified access token and what the handlers need from it. */
export interface AuthContext {
  /** The access token JWS as sent. */
  token: string;
  claims: AccessTokenClaims;
  /** professionOID claim ("" when absent). */
  professionOID: string;
  caller: CallerKind;
  /** Pairwise subject of the IDP (the user pseudonym is derived from it). */
  sub: string;
  /** Telematik-ID of a LEI or KVNR of an insured (idNummer claim). */
  idNumber?: string;
  /** Readable name for audit events (display_name, organizationName or given + family name). */
  displayName: string;
  clientId?: string;
}

export interface FhirRequest {
  method: string;
  /** Path without query, e.g. /Task/160.000.000.000.001.05/$activate. */
  path: string;
  /** The raw request target (path and query). */
  target: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer;
  /** `:name` segments of the route pattern, percent-decoded. */
  params: Record<string, string>;
  auth: AuthContext;
  /** Negotiated response format. */
  format: FhirFormat;
  /** Format of the request body by Content-Type (undefined when none or another type). */
  bodyFormat?: FhirFormat;
}

export interface FhirResponse {
  status: number;
  /** Serialized resource (use `contentType` for its type; default: the negotiated FHIR type). */
  body?: string | Buffer;
  contentType?: string;
  /** Extra inner response headers (e.g. Location). */
  headers?: Record<string, string>;
  /** Headers of the outer (VAU) response, e.g. VAU-Error-Code. */
  outerHeaders?: Record<string, string>;
}

/** What every handler gets besides the request: the Fachdienst's shared state. */
export interface FhirRouteContext {
  clock: SimClock;
  store: FachdienstStore;
  /** Public base URL of the Fachdienst (fullUrl of resources). */
  baseUrl: string;
  log: (message: string) => void;
  /** All registered routes (the CapabilityStatement is built from them). */
  routes(): readonly FhirRoute[];
  /** The simulated PKI (trust anchors, issuing the Fachdienst's own signer certificate). */
  pki?: Pki;
  /** The service's data directory (key material of the workflow). */
  dataDir?: string;
}

export type FhirHandler = (req: FhirRequest, ctx: FhirRouteContext) => FhirResponse | Promise<FhirResponse>;

export interface FhirRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** "/Task/:id/$activate" */
  pattern: string;
  /** professionOIDs allowed (roles.ts OPERATION_ROLES) or "any". */
  roles: RoleAllowList;
  /** Name for logs, audit and the CapabilityStatement ("Task.$activate", "metadata", …). */
  operation: string;
  handler: FhirHandler;
}

/** A workflow part: registers its routes (simulators/fachdienst/routes/index.ts lists them). */
export type FhirRouteModule = (router: FhirRouter) => void;

export interface DispatchResult {
  response: InnerHttpResponse;
  outerHeaders: Record<string, string>;
  /** Set once the access token verified. */
  auth?: AuthContext;
  operation?: string;
}

interface CompiledRoute extends FhirRoute {
  segments: string[];
  literalCount: number;
}

const JSON_TYPES = /application\/(fhir\+)?json/i;
const XML_TYPES = /application\/(fhir\+)?xml|text\/xml/i;

function formatOf(value: string | undefined): FhirFormat | undefined {
  if (!value) return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'json' || JSON_TYPES.test(v)) return 'json';
  if (v === 'xml' || XML_TYPES.test(v)) return 'xml';
  return undefined;
}

/** professionOID of a token before it is verified (only to choose the error format, as production does). */
function unverifiedProfessionOid(token: string | undefined): string | undefined {
  if (!token) return undefined;
  try {
    const c = payloadJson<Record<string, unknown>>(decodeJws(token).payload);
    return typeof c.professionOID === 'string' ? c.professionOID : undefined;
  } catch {
    return undefined;
  }
}

/** `_format`, then Accept, then the role default (insured: JSON, everyone else: XML). */
export function negotiateFormat(query: URLSearchParams, headers: Record<string, string>, professionOid: string | undefined): FhirFormat {
  return formatOf(query.get('_format') ?? undefined) ?? formatOf(headers.accept) ?? (professionOid === PROFESSION_OID.versicherter ? 'json' : 'xml');
}

function displayName(c: AccessTokenClaims): string {
  if (typeof c.display_name === 'string' && c.display_name) return c.display_name;
  if (typeof c.organizationName === 'string' && c.organizationName) return c.organizationName;
  return [c.given_name, c.family_name].filter((x) => typeof x === 'string' && x).join(' ') || 'unknown';
}

export class FhirRouter {
  private readonly compiled: CompiledRoute[] = [];

  constructor(
    private readonly deps: {
      verifier: Pick<AccessTokenVerifier, 'verify'>;
      context: Omit<FhirRouteContext, 'routes'>;
      /** Called after every dispatch (the harness-only request log, request-log.ts). */
      onDispatched?: (req: InnerHttpRequest, result: DispatchResult, transport: TransportInfo) => void;
    },
  ) {}

  /** Adds routes; a second route for the same method and pattern is a programming error. */
  register(...routes: FhirRoute[]): this {
    for (const r of routes) {
      if (!r.pattern.startsWith('/')) throw new Error(`route pattern must start with "/": ${r.pattern}`);
      const segments = r.pattern.split('/').filter(Boolean);
      const shape = (segs: string[]) => segs.map((x) => (x.startsWith(':') ? ':' : x)).join('/');
      const dupe = this.compiled.find((c) => c.method === r.method && shape(c.segments) === shape(segments));
      if (dupe) throw new Error(`route ${r.method} ${r.pattern} is registered twice`);
      this.compiled.push({ ...r, segments, literalCount: segments.filter((s) => !s.startsWith(':')).length });
    }
    // More literal segments first: "/Task/$create" before "/Task/:id".
    this.compiled.sort((a, b) => b.literalCount - a.literalCount);
    return this;
  }

  use(...modules: FhirRouteModule[]): this {
    for (const m of modules) m(this);
    return this;
  }

  routes(): readonly FhirRoute[] {
    return this.compiled;
  }

  get context(): FhirRouteContext {
    return { ...this.deps.context, routes: () => this.routes() };
  }

  /** The route for method and path with its parameters, if any. */
  match(method: string, path: string): { route: FhirRoute; params: Record<string, string> } | undefined {
    const segs = path.split('/').filter(Boolean);
    for (const r of this.compiled) {
      if (r.method !== method || r.segments.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length && ok; i++) {
        let seg: string;
        try {
          seg = decodeURIComponent(segs[i]);
        } catch {
          ok = false;
          break;
        }
        if (r.segments[i].startsWith(':')) params[r.segments[i].slice(1)] = seg;
        else ok = r.segments[i] === seg;
      }
      if (ok) return { route: r, params };
    }
    return undefined;
  }

  /**
   * Runs one inner request. `envelopeToken` is the token of the VAU envelope (undefined in plain
   * mode, where the Authorization header is the only token).
   */
  async dispatch(req: InnerHttpRequest, envelopeToken: string | undefined, transport: TransportInfo = {}): Promise<DispatchResult> {
    const result = await this.dispatchRequest(req, envelopeToken);
    this.deps.onDispatched?.(req, result, transport);
    return result;
  }

  private async dispatchRequest(req: InnerHttpRequest, envelopeToken: string | undefined): Promise<DispatchResult> {
    const authHeader = req.headers.authorization;
    const bearer = authHeader?.startsWith('Bearer ') ? authHeader.slice('Bearer '.length).trim() : undefined;
    let format = negotiateFormat(req.query, req.headers, unverifiedProfessionOid(bearer ?? envelopeToken));
    let auth: AuthContext | undefined;
    let operation: string | undefined;
    try {
      if (authHeader === undefined) throw new FhirError(400, 'Authorization header is missing');
      if (bearer === undefined || !bearer) throw new FhirError(400, 'invalid Authorization Bearer header field');
      if (envelopeToken !== undefined && bearer !== envelopeToken) throw new FhirError(400, 'Authorization header is invalid');
      const found = this.match(req.method, req.path);
      if (!found) throw new FhirError(405, 'no matching handler found.');
      operation = found.route.operation;
      const claims = await this.deps.verifier.verify(bearer);
      const professionOID = typeof claims.professionOID === 'string' ? claims.professionOID : '';
      auth = {
        token: bearer,
        claims,
        professionOID,
        caller: callerKind(professionOID),
        sub: claims.sub,
        ...(typeof claims.idNummer === 'string' ? { idNumber: claims.idNummer } : {}),
        displayName: displayName(claims),
        ...(typeof claims.client_id === 'string' ? { clientId: claims.client_id } : {}),
      };
      format = negotiateFormat(req.query, req.headers, professionOID);
      if (!isAllowed(found.route.roles, professionOID)) throw new FhirError(403, `endpoint is forbidden for professionOID ${professionOID}`);
      const fr: FhirRequest = {
        method: req.method,
        path: req.path,
        target: req.target,
        query: req.query,
        headers: req.headers,
        body: req.body,
        params: found.params,
        auth,
        format,
        bodyFormat: formatOf(req.headers['content-type']),
      };
      const r = await found.route.handler(fr, this.context);
      const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
      const headers: Record<string, string> = { ...(r.headers ?? {}) };
      if (body.length) headers['Content-Type'] = r.contentType ?? (format === 'json' ? 'application/fhir+json;charset=utf-8' : 'application/fhir+xml;charset=utf-8');
      return { response: { status: r.status, headers, body }, outerHeaders: r.outerHeaders ?? {}, auth, operation };
    } catch (e) {
      const err = e instanceof FhirError ? e : undefined;
      if (!err) this.deps.context.log(`internal error in ${req.method} ${req.path}: ${(e as Error)?.stack ?? String(e)}`);
      const fe = err ?? new FhirError(500, 'Internal server error.');
      const rendered = renderOperationOutcome(fe.issues, format);
      return {
        response: { status: fe.status, headers: { ...fe.headers, 'Content-Type': rendered.contentType }, body: Buffer.from(rendered.body, 'utf8') },
        outerHeaders: fe.vauErrorCode ? { 'VAU-Error-Code': fe.vauErrorCode } : {},
        auth,
        operation,
      };
    }
  }
}
