/**
 * Fachdienst test fixture and an independent VAU client.
 *
 * The client here is written only from the public protocol description (api-erp
 * docs/authentisieren.adoc, gemSpec_Krypt 7): ECDH on brainpoolP256r1 with an ephemeral key,
 * HKDF-SHA256(shared secret, no salt, info "ecies-vau-transport") → AES-128 key, AES-128-GCM with a
 * 12-byte IV, message 0x01 || X || Y || IV || ciphertext || tag; inner request
 * "1 <token> <requestId> <responseKey> <HTTP request>"; response AES-128-GCM(responseKey):
 * IV || ciphertext || tag over "1 <requestId> <HTTP response>". It deliberately does not import
 * simulators/lib/vau.ts, so the server is checked against the description, not against itself.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { startFachdienst, type FachdienstServiceOptions, type RunningFachdienst } from '../../../simulators/fachdienst/service';
import type { FhirRouteModule } from '../../../simulators/fachdienst/fhir-router';
import { startIdpFixture, type IdpFixture } from '../idp/helpers';

export interface FdFixture {
  idpFx: IdpFixture;
  fd: RunningFachdienst;
  logs: string[];
  agent: https.Agent;
  vauPublicPoint: Buffer;
  stop(): Promise<void>;
}

export async function startFdFixture(
  opts: { routeModules?: readonly FhirRouteModule[]; config?: FachdienstServiceOptions['config']; idpFx?: IdpFixture } = {},
): Promise<FdFixture> {
  const idpFx = opts.idpFx ?? (await startIdpFixture());
  const logs: string[] = [];
  let fd: RunningFachdienst | undefined;
  try {
    fd = await startFachdienst({
      host: '127.0.0.1',
      port: 0,
      dataDir: fs.mkdtempSync(path.join(idpFx.tmp, 'fd-')),
      env: idpFx.env,
      log: (m) => logs.push(m),
      pki: idpFx.pkiService.pki,
      idpUrl: idpFx.idp.url,
      pkiUrl: idpFx.pkiService.url,
      config: opts.config,
      routeModules: opts.routeModules,
    });
  } catch (e) {
    if (!opts.idpFx) await idpFx.stop();
    throw e;
  }
  const running = fd;
  const agent = new https.Agent({ ca: running.trustRootPem, keepAlive: false });
  return {
    idpFx,
    fd: running,
    logs,
    agent,
    vauPublicPoint: publicPointOf(running.vau.certificate),
    async stop() {
      await running.stop();
      agent.destroy();
      if (!opts.idpFx) await idpFx.stop();
    },
  };
}

/** 04 || X || Y of a certificate's EC key: the last 65 bytes of its SPKI. */
export function publicPointOf(certDer: Buffer): Buffer {
  const spki = new crypto.X509Certificate(certDer).publicKey.export({ type: 'spki', format: 'der' });
  return spki.subarray(spki.length - 65);
}

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function rawRequest(fx: { agent: https.Agent }, method: string, url: string, headers: Record<string, string>, body?: Buffer): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, agent: fx.agent, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

// ------------------------------------------------------------------ the independent VAU client

export interface SealedRequest {
  envelope: Buffer;
  requestId: string;
  responseKey: Buffer;
}

/** ECIES-encrypt `plaintext` for the VAU key (uncompressed point). */
export function eciesEncrypt(plaintext: Buffer, vauPoint: Buffer): Buffer {
  const ecdh = crypto.createECDH('brainpoolP256r1');
  const ephemeral = ecdh.generateKeys(); // 04 || X || Y
  const shared = ecdh.computeSecret(vauPoint);
  const key = Buffer.from(crypto.hkdfSync('sha256', shared, Buffer.alloc(0), Buffer.from('ecies-vau-transport'), 16));
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-128-gcm', key, iv);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([Buffer.from([0x01]), ephemeral.subarray(1), iv, ct, c.getAuthTag()]);
}

export function innerHttp(method: string, target: string, headers: Record<string, string>, body = Buffer.alloc(0)): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (body.length || method === 'POST') lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

export function sealRequest(token: string, http: Buffer, vauPoint: Buffer): SealedRequest {
  const requestId = crypto.randomBytes(16).toString('hex');
  const responseKey = crypto.randomBytes(16);
  const plaintext = Buffer.concat([Buffer.from(`1 ${token} ${requestId} ${responseKey.toString('hex')} `, 'latin1'), http]);
  return { envelope: eciesEncrypt(plaintext, vauPoint), requestId, responseKey };
}

export interface OpenedResponse {
  requestId: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** AES-128-GCM open of the outer body, then "1 <requestId> <HTTP response>". */
export function openResponse(body: Buffer, responseKey: Buffer): OpenedResponse {
  const d = crypto.createDecipheriv('aes-128-gcm', responseKey, body.subarray(0, 12));
  d.setAuthTag(body.subarray(body.length - 16));
  const plain = Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()]).toString('utf8');
  const m = /^1 ([0-9a-f]{32}) ([\s\S]*)$/.exec(plain);
  if (!m) throw new Error(`inner response framing: ${plain.slice(0, 80)}`);
  const http = m[2];
  const sep = http.indexOf('\r\n\r\n');
  const [statusLine, ...headerLines] = http.slice(0, sep).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of headerLines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
  return { requestId: m[1], status: Number(statusLine.split(' ')[1]), headers, body: http.slice(sep + 4) };
}

export const OUTER_HEADERS = { 'content-type': 'application/octet-stream', 'x-erp-user': 'l', 'x-erp-resource': 'Task', 'user-agent': 'ti-harness-test/1.0' };

/** A complete VAU exchange: seal, POST /VAU/<up>, open. */
export async function vauCall(
  fx: FdFixture,
  token: string,
  http: Buffer,
  opts: { up?: string; envelopeToken?: string; outerHeaders?: Record<string, string> } = {},
): Promise<{ outer: RawReply; inner: OpenedResponse; requestId: string }> {
  const sealed = sealRequest(opts.envelopeToken ?? token, http, fx.vauPublicPoint);
  const outer = await rawRequest(fx, 'POST', `${fx.fd.url}/VAU/${opts.up ?? '0'}`, opts.outerHeaders ?? OUTER_HEADERS, sealed.envelope);
  if (outer.status !== 200) throw new Error(`outer ${outer.status}: ${outer.body.toString('utf8')}`);
  return { outer, inner: openResponse(outer.body, sealed.responseKey), requestId: sealed.requestId };
}

export function get(token: string, target: string, extra: Record<string, string> = {}): Buffer {
  return innerHttp('GET', target, { Host: 'erp.ti-harness.sim', Authorization: `Bearer ${token}`, 'User-Agent': 'ti-harness-test/1.0', ...extra });
}
