/**
 * Shared helpers of the Konnektor tests: a whole simulated TI slice (PKI service, cards service
 * with real persona cards behind a private pcscd, Konnektor) on ephemeral ports, a raw SOAP
 * client over HTTPS with the PKI's root as trust anchor, and XSD validation with xmllint.
 *
 * Each test file that starts the fixture runs its own pcscd on its own vpcd port range (one
 * PC/SC socket per process).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { startCardsService, type RunningCardsService } from '../../../cards/service';
import { resolveEnvironment, type Environment } from '../../../simulators/lib/config';
import { freePort } from '../../../simulators/lib/net-probe';
import { sharedPath } from '../../../simulators/lib/shared-data';
import { parseSoapEnvelope, readSoapFault, SOAP11_ENVELOPE_NS, type TelematikTrace } from '../../../simulators/lib/soap';
import { declaredNamespaces, el, NsElement, parseXml, serialize, type XmlElement } from '../../../simulators/lib/xml';
import { startPkiService, type RunningPkiService } from '../../../simulators/pki/service';
import { startKonnektor, type RunningKonnektor } from '../../../simulators/konnektor/service';
import { freeVpcdBase } from '../pcsc/helpers';
import { KONNEKTOR_NS } from '../../../simulators/lib/konnektor-namespaces';

export const SCHEMAS = sharedPath('reference', 'konnektor-schemas');
export const XSD = {
  event: path.join(SCHEMAS, 'conn', 'EventService.xsd'),
  card81: path.join(SCHEMAS, 'conn', 'CardService_v8_1_3.xsd'),
  card82: path.join(SCHEMAS, 'conn', 'CardService_v8_2_1.xsd'),
  certificate: path.join(SCHEMAS, 'conn', 'CertificateService_v6_0_2.xsd'),
  sds: path.join(SCHEMAS, 'conn', 'ServiceDirectory.xsd'),
  error: path.join(SCHEMAS, 'tel', 'error', 'TelematikError.xsd'),
};
export const WSDL = {
  event: path.join(SCHEMAS, 'conn', 'EventService.wsdl'),
  card: path.join(SCHEMAS, 'conn', 'CardService_v8_1_2.wsdl'),
  certificate: path.join(SCHEMAS, 'conn', 'CertificateService_v6_0_1.wsdl'),
};

export const NSX = KONNEKTOR_NS;

export const ACTION = {
  event: 'http://ws.gematik.de/conn/EventService/v7.2#',
  card: 'http://ws.gematik.de/conn/CardService/v8.1#',
  certificate: 'http://ws.gematik.de/conn/CertificateService/v6.0#',
};

/** The information model the tests use: two Mandants, terminals CT-A (slots 0, 1) and CT-B (2, 3). */
export const TEST_KONNEKTOR = {
  tls: true,
  clientAuth: false,
  cardTerminals: [
    { id: 'CT-A', name: 'Empfang', slots: [0, 1] },
    { id: 'CT-B', name: 'Sprechzimmer', slots: [2, 3] },
  ],
  clientSystems: ['PVS-1', 'AVS-1'],
  workplaces: [
    { id: 'WP-1', localTerminals: ['CT-A', 'CT-B'], clientSystems: ['PVS-1'] },
    { id: 'WP-2', localTerminals: ['CT-A'], clientSystems: ['PVS-1'] },
    { id: 'WP-3', remoteTerminals: ['CT-B'], clientSystems: ['PVS-1'] },
    { id: 'WP-APO', localTerminals: [], clientSystems: ['AVS-1'] },
  ],
  mandants: [
    { id: 'Praxis-Ebert', clientSystems: ['PVS-1'], workplaces: ['WP-1', 'WP-2', 'WP-3'], cardTerminals: ['CT-A', 'CT-B'] },
    { id: 'Apotheke', clientSystems: ['AVS-1'], workplaces: ['WP-APO'], cardTerminals: [] },
  ],
};

export const CTX = { mandantId: 'Praxis-Ebert', clientSystemId: 'PVS-1', workplaceId: 'WP-1' };

export interface Fixture {
  tmp: string;
  env: Environment;
  pki?: RunningPkiService;
  cards?: RunningCardsService;
  konnektor: RunningKonnektor;
  url: string;
  rootPem: string;
  agent: https.Agent;
  logs: string[];
  stop(): Promise<void>;
}

export interface FixtureOptions {
  /** Start of the vpcd port range search (each test file its own). */
  vpcdFrom: number;
  /** Personas inserted at start, slot 0 first; undefined = no cards service at all. */
  insert?: string[];
  /** Override parts of the konnektor section. */
  konnektor?: Record<string, unknown>;
  /** Start the PKI service (OCSP) too. */
  pkiService?: boolean;
}

export async function startFixture(opts: FixtureOptions): Promise<Fixture> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-kon-'));
  const vpcdPort = await freeVpcdBase(opts.vpcdFrom, 4);
  const [pkiPort, cardsPort] = [await freePort(), await freePort()];
  const env = resolveEnvironment(
    {
      name: 'kon-test',
      dataDir: tmp,
      services: { pki: { port: pkiPort }, cards: { port: cardsPort }, konnektor: { port: 1 } },
      cards: { slots: 4, vpcdPort, insert: opts.insert ?? [] },
      konnektor: { ...TEST_KONNEKTOR, ...(opts.konnektor ?? {}) } as never,
    },
    path.join(tmp, 'kon-test.yaml'),
  );
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    let pki: RunningPkiService | undefined;
    if (opts.pkiService) {
      pki = await startPkiService({ host: '127.0.0.1', port: pkiPort, dataDir: path.join(tmp, 'pki'), env, log });
      started.push(pki);
    }
    let cards: RunningCardsService | undefined;
    if (opts.insert) {
      cards = await startCardsService({ host: '127.0.0.1', port: cardsPort, dataDir: path.join(tmp, 'cards'), env, log });
      started.push(cards);
    }
    const konnektor = await startKonnektor({ host: '127.0.0.1', port: 0, dataDir: path.join(tmp, 'konnektor'), env, log });
    started.push(konnektor);
    const rootPem = fs.readFileSync(path.join(tmp, 'pki', 'hierarchy', 'root.cert.pem'), 'utf8');
    const agent = new https.Agent({ ca: rootPem, keepAlive: false });
    return { tmp, env, pki, cards, konnektor, url: konnektor.url, rootPem, agent, logs, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One HTTP(S) request (the agent carries the trust anchor). */
export function request(url: string, opts: { method?: string; body?: string | Buffer; headers?: Record<string, string>; agent?: https.Agent } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      u,
      { method: opts.method ?? 'GET', headers: { ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...(opts.headers ?? {}) }, ...(u.protocol === 'https:' ? { agent: opts.agent } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer from ${url} within 30 s`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export function contextXml(c: Partial<typeof CTX> & { userId?: string } = CTX): string {
  const parts = [
    c.mandantId !== undefined ? `<CONN:MandantId>${c.mandantId}</CONN:MandantId>` : '',
    c.clientSystemId !== undefined ? `<CONN:ClientSystemId>${c.clientSystemId}</CONN:ClientSystemId>` : '',
    c.workplaceId !== undefined ? `<CONN:WorkplaceId>${c.workplaceId}</CONN:WorkplaceId>` : '',
    c.userId !== undefined ? `<CONN:UserId>${c.userId}</CONN:UserId>` : '',
  ];
  return `<CCTX:Context xmlns:CCTX="${NSX.CCTX}" xmlns:CONN="${NSX.CONN}">${parts.join('')}</CCTX:Context>`;
}

export function envelope(inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP11_ENVELOPE_NS}"><soapenv:Header/><soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`;
}

/** POSTs a SOAP request to `path` of the fixture's Konnektor. */
export function soapCall(f: Fixture, p: string, body: string, soapAction?: string, extraHeaders: Record<string, string> = {}): Promise<HttpResult> {
  return request(`${f.url}${p}`, {
    method: 'POST',
    body,
    agent: f.agent,
    headers: { 'content-type': 'text/xml; charset=utf-8', ...(soapAction !== undefined ? { soapaction: `"${soapAction}"` } : {}), ...extraHeaders },
  });
}

/** The body child of a response envelope, as a standalone document (in-scope namespaces declared on it). */
export function bodyChildDocument(xml: string): { element: NsElement; document: string } {
  const env = parseSoapEnvelope(xml);
  const child = env.body;
  const own = declaredNamespaces(child.element);
  const extra = Object.entries(child.scope)
    .filter(([p]) => own[p] === undefined)
    .map(([p, uri]) => [p ? `xmlns:${p}` : 'xmlns', uri] as [string, string]);
  const copy: XmlElement = el(child.element.name, [...extra, ...child.element.attrs], child.element.children);
  return { element: child, document: serialize(copy) };
}

export interface Validation {
  ok: boolean;
  output: string;
}

/** xmllint --noout --nonet --schema <xsd> on `document`. */
export function validateXml(document: string, xsd: string): Validation {
  const file = path.join(os.tmpdir(), `ti-kon-validate-${process.pid}-${Math.random().toString(36).slice(2)}.xml`);
  fs.writeFileSync(file, document);
  try {
    const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', xsd, file], { encoding: 'utf8', timeout: 20_000 });
    return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Validates the body child of a SOAP response (a Fault: its GERROR:Error detail) against `xsd`. */
export function validateResponse(xml: string, xsd: string): Validation {
  const { element, document } = bodyChildDocument(xml);
  if (element.is(SOAP11_ENVELOPE_NS, 'Fault')) {
    const err = element.child('detail')?.child('Error', 'http://ws.gematik.de/tel/error/v2.0');
    if (!err) return { ok: false, output: 'a Fault without GERROR:Error detail' };
    const errDoc = el(err.element.name, [...Object.entries(err.scope).filter(([p]) => declaredNamespaces(err.element)[p] === undefined).map(([p, u]) => [p ? `xmlns:${p}` : 'xmlns', u] as [string, string]), ...err.element.attrs], err.element.children);
    return validateXml(serialize(errDoc), XSD.error);
  }
  return validateXml(document, xsd);
}

/** The gematik trace of a fault response (fails when the response is no fault). */
export function faultOf(xml: string): { faultcode: string; faultstring: string; trace: TelematikTrace[] } {
  const f = readSoapFault(xml);
  if (!f) throw new Error(`expected a SOAP Fault, got: ${xml.slice(0, 400)}`);
  return f;
}

/** Parses a response and returns the body child (namespace-aware). */
export function responseBody(xml: string): NsElement {
  return parseSoapEnvelope(xml).body;
}

/** Polls until `check` holds (or fails after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export { parseXml };
