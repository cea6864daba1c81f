/**
 * Complete E-Rezept lifecycles through the real interfaces, all started in this process: PKI
 * service, persona cards behind a private pcscd (benchVpcdPorts), the Konnektor over HTTPS
 * (startKonnektor), the IDP (practice and pharmacy log in with their SMC-B through the Konnektor)
 * and the Fachdienst with VAU on. One lifecycle, one after the other (no concurrency):
 *
 *   PVS (simulators/pvs/pvs.ts, batch mode, one prescription per call): $create → KBV bundle →
 *   SignDocument at the Konnektor (QES with the virtual HBA through PC/SC) → $activate;
 *   printout (DataMatrix PNG) → AVS (simulators/avs/avs.ts): scan → $accept → VerifyDocument of the
 *   QES at the Konnektor → $dispense → $close → VerifyDocument of the receipt, receipt matched
 *   against the prescription. A lifecycle counts only when both signatures are VALID and the
 *   receipt references the prescription.
 *
 *   fachdienst.lifecycle        lifecycles/s (baseline fachdienst.crypto_ceiling), latency p50/p99
 *   fachdienst.op.<op>          latency p50/p99 of each client call, measured around it: $create,
 *                               $activate, $accept, $dispense, $close (VauClient.request: VAU
 *                               encryption, HTTPS, Fachdienst, decryption), sign (KonnektorClient
 *                               .signDocument), verify (VerifyDocument of the prescription QES),
 *                               verify_receipt (VerifyDocument of the receipt), scan (DataMatrix decode)
 *   fachdienst.crypto_ceiling   the cryptography of one lifecycle done in-process, no network, no
 *                               cards: per Fachdienst request (5) VAU ECIES request encrypt + decrypt,
 *                               access-token JWS verification (BP256R1), response encrypt + decrypt;
 *                               one brainpool CMS signature + verification of the prescription bundle
 *                               (software C.HP.QES key); the Fachdienst's receipt signature (its
 *                               C.FD.SIG signer) + verification. Request and response bodies, the
 *                               bundle and the receipt are the ones of a real lifecycle of this run.
 *                               lifecycles/s
 *
 * Needs root (the harness's pcscd runs in its own mount namespace) like bench/cards.bench.ts.
 */
import { PRACTICE_TEST_CONTEXT, practiceTestEnvironment } from '../simulators/konnektor/testing/practice-model';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { personaCatalog } from '../cards/index';
import { catalogFrom, startCardsService, type RunningCardsService } from '../cards/service';
import type { ClientSystemAuthn } from '../simulators/authenticator/client-wiring';
import { KonnektorSmcbSigner } from '../simulators/authenticator/signers/konnektor-smcb';
import { Avs } from '../simulators/avs/avs';
import { startFachdienst, type RunningFachdienst } from '../simulators/fachdienst/service';
import { loadOrIssueFdSigner } from '../simulators/fachdienst/workflow/fd-signer';
import { startIdp, type RunningIdp } from '../simulators/idp/service';
import { generateBp256KeyPair } from '../simulators/lib/bp256';
import { SimClock } from '../simulators/lib/clock';
import { buildSignedData, parseSignedData, verifySignedData } from '../simulators/lib/cms';
import { resolveEnvironment, type Environment } from '../simulators/lib/config';
import { fetchPkiTrust } from '../simulators/lib/idp-client';
import { decodeJws, signJws, verifyJws } from '../simulators/lib/jose';
import type { KbvMedication } from '../simulators/lib/kbv-bundle';
import {
  KonnektorClient,
  type DocumentToSign,
  type KonnektorCallContext,
  type SignDocumentOptions,
  type SignedDocument,
  type VerifyDocumentOptions,
  type VerifyDocumentResult,
} from '../simulators/lib/konnektor-client';
import { freePort } from '../simulators/lib/net-probe';
import { createVauRequest, openVauRequest, openVauResponse, sealVauResponse } from '../simulators/lib/vau';
import { VauClient, type VauRequestOptions, type VauResponse } from '../simulators/lib/vau-client';
import { toPem } from '../simulators/lib/x509';
import { startKonnektor, type RunningKonnektor } from '../simulators/konnektor/service';
import { startPkiService, type RunningPkiService } from '../simulators/pki/service';
import { createPracticeAuthn } from '../simulators/pvs/authn';
import { Pvs } from '../simulators/pvs/pvs';
import { benchVpcdPorts, percentile, round, type BenchContext, type Benchmark } from './run';

const DOCTOR = 'Dr. Hanna Ebert';
const PRACTICE = 'Praxis Dr. Hanna Ebert';
const PHARMACY = 'Apotheke am Markt';
const PATIENT = 'Jonas Keller';
const MEDICATION: KbvMedication = { kind: 'pzn', pzn: '06313728', name: 'Ibuprofen AL 400 mg 20 Filmtabletten N1', form: 'FTA', normSize: 'N1', ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } } };
const WARM_UP = 2;
const MEASURE_MS = 20_000;
const MAX_LIFECYCLES = 400;
const CEILING_MS = 3000;

const CALL_CONTEXT: KonnektorCallContext = { ...PRACTICE_TEST_CONTEXT };

type Op = '$create' | 'sign' | '$activate' | 'scan' | '$accept' | 'verify' | '$dispense' | '$close' | 'verify_receipt';
const OPS: Op[] = ['$create', 'sign', '$activate', 'scan', '$accept', 'verify', '$dispense', '$close', 'verify_receipt'];

/** One Fachdienst exchange as the client saw it (for the in-process ceiling). */
interface Exchange {
  method: string;
  target: string;
  headers: Record<string, string>;
  body?: string;
  status: number;
  responseHeaders: Record<string, string>;
  responseText: string;
}

/** Latencies (ms) per client call; `phase` tells the two VerifyDocument calls apart. */
class Recorder {
  readonly samples = new Map<Op, number[]>(OPS.map((o) => [o, []]));
  phase: 'prescription' | 'receipt' = 'prescription';
  exchanges: Exchange[] | undefined;
  add(op: Op, ms: number): void {
    (this.samples.get(op) as number[]).push(ms);
  }
  reset(): void {
    for (const s of this.samples.values()) s.length = 0;
  }
  async time<T>(op: Op, f: () => Promise<T>): Promise<T> {
    const t = process.hrtime.bigint();
    try {
      return await f();
    } finally {
      this.add(op, Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
}

function vauOp(target: string): Op | undefined {
  const m = /\/(\$create|\$activate|\$accept|\$dispense|\$close)(\?|$)/.exec(target);
  return m ? (m[1] as Op) : undefined;
}

/** The VAU client of PVS and AVS, timing each request and optionally keeping the exchange. */
class TimedVauClient extends VauClient {
  recorder?: Recorder;
  override async request(method: string, target: string, opts: VauRequestOptions = {}): Promise<VauResponse> {
    const op = vauOp(target);
    const rec = this.recorder;
    const call = () => super.request(method, target, opts);
    const res = rec && op ? await rec.time(op, call) : await call();
    rec?.exchanges?.push({
      method,
      target,
      headers: { ...(opts.headers ?? {}) },
      ...(opts.body !== undefined ? { body: String(opts.body) } : {}),
      status: res.status,
      responseHeaders: res.headers,
      responseText: res.text(),
    });
    return res;
  }
}

/** The Konnektor client of PVS and AVS, timing SignDocument and VerifyDocument. */
class TimedKonnektorClient extends KonnektorClient {
  recorder?: Recorder;
  override async signDocument(cardHandle: string, documents: DocumentToSign[], opts: SignDocumentOptions = {}): Promise<SignedDocument[]> {
    const rec = this.recorder;
    return rec ? rec.time('sign', () => super.signDocument(cardHandle, documents, opts)) : super.signDocument(cardHandle, documents, opts);
  }
  override async verifyDocument(signature: Buffer, opts: VerifyDocumentOptions = {}): Promise<VerifyDocumentResult> {
    const rec = this.recorder;
    if (!rec) return super.verifyDocument(signature, opts);
    return rec.time(rec.phase === 'receipt' ? 'verify_receipt' : 'verify', () => super.verifyDocument(signature, opts));
  }
}

interface Stack {
  env: Environment;
  pkiService: RunningPkiService;
  idp: RunningIdp;
  fd: RunningFachdienst;
  fdDataDir: string;
  rootPem: string;
}

/** Starts PKI, cards (private pcscd), Konnektor, IDP and Fachdienst; everything started is pushed to `stops`. */
async function startStack(tmp: string, stops: Array<() => Promise<void>>, log: (m: string) => void): Promise<Stack> {
  const quiet = () => undefined;
  const vpcdPort = await benchVpcdPorts();
  const [pkiPort, cardsPort] = [await freePort(), await freePort()];
  const env = practiceTestEnvironment({ name: 'bench-fachdienst', dir: tmp, pkiPort, cardsPort, vpcdPort });
  const pkiService = await startPkiService({ host: '127.0.0.1', port: pkiPort, dataDir: path.join(tmp, 'pki'), env, log: quiet });
  stops.push(() => pkiService.stop());
  const pki = pkiService.pki;
  const personas = personaCatalog({ pki, cacheDir: path.join(tmp, 'cards') });
  const inserted = [DOCTOR, PRACTICE, PHARMACY];
  const entries = new Map(inserted.map((name) => [name, { description: name, create: () => personas.create(name) }]));
  const cards: RunningCardsService = await startCardsService({ host: '127.0.0.1', port: cardsPort, dataDir: path.join(tmp, 'cards'), env, log: quiet, catalog: catalogFrom(entries) });
  stops.push(() => cards.stop());
  const konnektor: RunningKonnektor = await startKonnektor({ host: '127.0.0.1', port: 0, dataDir: path.join(tmp, 'konnektor'), env, log: quiet, pki });
  stops.push(() => konnektor.stop());
  for (const [i, name] of inserted.entries()) await cards.insert(name, i);
  const deadline = Date.now() + 20_000;
  for (;;) {
    await konnektor.context.cards.settled();
    if (konnektor.context.cards.list().length >= inserted.length) break;
    if (Date.now() > deadline) throw new Error('the Konnektor did not identify the cards through PC/SC in time');
    await new Promise((r) => setTimeout(r, 50));
  }
  log(`cards ${inserted.join(', ')} identified behind pcscd on vpcd ${vpcdPort}`);

  const idpEnv = resolveEnvironment({ name: 'bench-fachdienst-idp', dataDir: tmp, services: { pki: { port: pkiPort } } }, path.join(tmp, 'bench-fachdienst-idp.yaml'));
  const idp = await startIdp({ host: '127.0.0.1', port: 0, dataDir: fs.mkdtempSync(path.join(tmp, 'idp-')), env: idpEnv, log: quiet, pki, clock: new SimClock() });
  stops.push(() => idp.stop());
  const fdDataDir = fs.mkdtempSync(path.join(tmp, 'fd-'));
  const fd = await startFachdienst({ host: '127.0.0.1', port: 0, dataDir: fdDataDir, env: idpEnv, log: quiet, pki, idpUrl: idp.url, pkiUrl: pkiService.url });
  stops.push(() => fd.stop());
  const s = env.services;
  const clientEnv: Environment = {
    ...env,
    services: { ...s, idp: { ...s.idp, url: idp.url }, fachdienst: { ...s.fachdienst, url: fd.url }, konnektor: { ...s.konnektor, url: konnektor.url } },
  };
  return { env: clientEnv, pkiService, idp, fd, fdDataDir, rootPem: toPem(pki.rootCertificate) };
}

function stats(ms: number[]): { p50: number; p99: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

function innerHttpRequest(x: Exchange, token: string): string {
  const head = Object.entries(x.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const body = x.body ?? '';
  return `${x.method} ${x.target} HTTP/1.1\r\nHost: erp.zentral.erp.splitdns.ti-dienste.de\r\nAuthorization: Bearer ${token}\r\n${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function innerHttpResponse(x: Exchange): string {
  const head = Object.entries(x.responseHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `HTTP/1.1 ${x.status} OK\r\n${head}\r\n${x.responseText}`;
}

export const benchmark: Benchmark = {
  name: 'fachdienst',
  description: 'complete prescription lifecycles (PVS $create/QES via Konnektor+HBA/$activate, AVS scan/$accept/verify/$dispense/$close/receipt) over VAU vs the same cryptography in-process',
  async run(ctx: BenchContext) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-bench-fachdienst-'));
    const stops: Array<() => Promise<void>> = [];
    try {
      const t0 = Date.now();
      const st = await startStack(tmp, stops, (m) => ctx.log(m));
      const trust = await fetchPkiTrust(st.env.services.pki.url);
      const recorder = new Recorder();
      const konnektor = new TimedKonnektorClient({ url: st.env.services.konnektor.url, ca: st.rootPem, context: CALL_CONTEXT });
      stops.push(() => konnektor.close());

      const practiceAuthn: ClientSystemAuthn = await createPracticeAuthn({ env: st.env, trust, signer: new KonnektorSmcbSigner({ konnektor, persona: PRACTICE }) });
      stops.push(() => practiceAuthn.close());
      const pvsVau = new TimedVauClient({ fachdienstUrl: st.fd.url, trust, user: 'l', userAgent: 'ti-harness-pvs/1.0', accessToken: () => practiceAuthn.tokens.accessToken() });
      const pvs = await Pvs.open({ env: st.env, practice: PRACTICE, doctor: DOCTOR, konnektor, signatureMode: 'batch', fachdienst: pvsVau, authn: practiceAuthn });
      stops.push(() => pvs.close());

      const pharmacyAuthn: ClientSystemAuthn = await createPracticeAuthn({ env: st.env, trust, signer: new KonnektorSmcbSigner({ konnektor, persona: PHARMACY }) });
      stops.push(() => pharmacyAuthn.close());
      const avsVau = new TimedVauClient({ fachdienstUrl: st.fd.url, trust, user: 'l', userAgent: 'ti-harness-avs/1.0', accessToken: () => pharmacyAuthn.tokens.accessToken() });
      const avs = await Avs.create({ env: st.env, trust, pharmacy: PHARMACY, konnektor, fachdienst: avsVau, authn: pharmacyAuthn });
      stops.push(() => avs.shutdown());
      for (const c of [pvsVau, avsVau, konnektor]) c.recorder = recorder;
      ctx.log(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      /** One complete lifecycle; throws unless both signatures are VALID and the receipt matches. */
      let bundle: Buffer | undefined;
      let receiptContent: Buffer | undefined;
      const lifecycle = async (): Promise<void> => {
        recorder.phase = 'prescription';
        const [r] = await pvs.prescribe([{ patient: PATIENT, medication: MEDICATION, dosage: '1-0-1-0' }]);
        const [png] = pvs.printDataMatrix([r.token]);
        const t = process.hrtime.bigint();
        const [scanned] = avs.scan(png);
        recorder.add('scan', Number(process.hrtime.bigint() - t) / 1e6);
        if (scanned?.prescriptionId !== r.taskId) throw new Error(`scanned ${String(scanned?.prescriptionId)}, expected ${r.taskId}`);
        const accepted = await avs.accept(scanned.prescriptionId);
        if (!accepted.signatureCheck.ok) throw new Error(`prescription QES not VALID: ${JSON.stringify(accepted.signatureCheck)}`);
        await avs.dispense(scanned.prescriptionId);
        recorder.phase = 'receipt';
        const receipt = await avs.close(scanned.prescriptionId);
        if (!receipt.signatureCheck.ok || !receipt.referencesPrescription) throw new Error(`receipt not accepted: ${JSON.stringify(receipt.signatureCheck)} ${receipt.problems.join('; ')}`);
        bundle = r.bundle;
        receiptContent = receipt.signature ? parseSignedData(receipt.signature).content : undefined;
      };

      // Warm-up (JIT, certificates, OCSP caches, VAU certificate, first tokens); the last one keeps its exchanges.
      for (let i = 0; i < WARM_UP; i++) {
        recorder.exchanges = i === WARM_UP - 1 ? [] : undefined;
        await lifecycle();
      }
      const exchanges = recorder.exchanges ?? [];
      recorder.exchanges = undefined;
      recorder.reset();

      const lat: number[] = [];
      const tStart = process.hrtime.bigint();
      let elapsed = 0;
      while (elapsed < MEASURE_MS && lat.length < MAX_LIFECYCLES) {
        const t = process.hrtime.bigint();
        await lifecycle();
        const now = process.hrtime.bigint();
        lat.push(Number(now - t) / 1e6);
        elapsed = Number(now - tStart) / 1e6;
      }
      const lifecyclesPerSecond = (lat.length * 1000) / elapsed;

      // ------------------------------------------------------------ the same cryptography in-process
      if (exchanges.length !== 5 || !bundle || !receiptContent) throw new Error(`warm-up lifecycle captured ${exchanges.length} exchanges (expected 5), bundle ${!!bundle}, receipt ${!!receiptContent}`);
      const realToken = decodeJws(await practiceAuthn.tokens.accessToken());
      const idpKey = generateBp256KeyPair();
      const { alg: _alg, ...tokenHeader } = realToken.header;
      const token = signJws(realToken.payload, idpKey.privateKey, tokenHeader); // same header/claims and size, BP256R1
      const vauPublicKey = new crypto.X509Certificate(st.fd.vau.certificate).publicKey;
      const qes = st.pkiService.pki.issue({ profile: 'C.HP.QES', subject: { commonName: 'Dr. Hanna Ebert (bench)' } });
      const qesChain = qes.chainPem.map((p) => new crypto.X509Certificate(p).raw).filter((c) => !c.equals(qes.certificate));
      const fdSigner = loadOrIssueFdSigner(st.pkiService.pki, st.fdDataDir);
      const requests = exchanges.map((x) => ({ http: innerHttpRequest(x, token), response: innerHttpResponse(x) }));
      const prescription = bundle;
      const receiptXml = receiptContent;
      const cryptoLifecycle = () => {
        for (const x of requests) {
          const sealed = createVauRequest({ vauPublicKey, accessToken: token, httpRequest: x.http });
          const inner = openVauRequest(sealed.body, st.fd.vau.privateKey);
          verifyJws(inner.accessToken, idpKey.publicKey, { algorithms: ['BP256R1'] });
          const answer = sealVauResponse(inner, x.response);
          openVauResponse(answer, sealed.responseKey, sealed.requestId);
        }
        const cms = buildSignedData({ content: prescription, signerCertificate: qes.certificate, chain: qesChain, privateKey: qes.privateKey, signingTime: new Date() });
        if (!verifySignedData(cms, { requireSignedAttributes: true }).content.equals(prescription)) throw new Error('QES content mismatch');
        const receiptCms = fdSigner.sign(receiptXml, new Date());
        if (!verifySignedData(receiptCms, { requireSignedAttributes: true }).content.equals(receiptXml)) throw new Error('receipt content mismatch');
      };
      for (let i = 0; i < 5; i++) cryptoLifecycle();
      const c0 = process.hrtime.bigint();
      let ceilingCount = 0;
      let ceilingElapsed = 0;
      while (ceilingElapsed < CEILING_MS) {
        cryptoLifecycle();
        ceilingCount++;
        ceilingElapsed = Number(process.hrtime.bigint() - c0) / 1e6;
      }
      const ceiling = (ceilingCount * 1000) / ceilingElapsed;

      ctx.emit({ bench: 'fachdienst.crypto_ceiling', metric: 'throughput', value: round(ceiling), unit: '1/s' });
      ctx.emit({ bench: 'fachdienst.lifecycle', metric: 'throughput', value: round(lifecyclesPerSecond), unit: '1/s', baseline: 'fachdienst.crypto_ceiling', ratio: round(lifecyclesPerSecond / ceiling, 3) });
      const l = stats(lat);
      ctx.emit({ bench: 'fachdienst.lifecycle', metric: 'latency_p50', value: round(l.p50), unit: 'ms' });
      ctx.emit({ bench: 'fachdienst.lifecycle', metric: 'latency_p99', value: round(l.p99), unit: 'ms' });
      for (const op of OPS) {
        const samples = recorder.samples.get(op) as number[];
        if (samples.length === 0) throw new Error(`no samples for ${op}`);
        const s = stats(samples);
        ctx.emit({ bench: `fachdienst.op.${op}`, metric: 'latency_p50', value: round(s.p50), unit: 'ms' });
        ctx.emit({ bench: `fachdienst.op.${op}`, metric: 'latency_p99', value: round(s.p99), unit: 'ms' });
      }
      const mean = (op: Op) => {
        const s = recorder.samples.get(op) as number[];
        return s.reduce((a, b) => a + b, 0) / s.length;
      };
      const opSum = OPS.reduce((a, op) => a + mean(op), 0);
      ctx.log(
        `${lat.length} lifecycles in ${(elapsed / 1000).toFixed(1)} s; mean per lifecycle ${round(lat.reduce((a, b) => a + b, 0) / lat.length)} ms, ` +
          `of it in the measured calls ${round(opSum)} ms (${OPS.map((op) => `${op} ${round(mean(op), 3)}`).join(', ')}); ` +
          `crypto ceiling ${ceilingCount} lifecycles in ${(ceilingElapsed / 1000).toFixed(1)} s (${round(ceilingElapsed / ceilingCount, 3)} ms each)`,
      );
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
};
