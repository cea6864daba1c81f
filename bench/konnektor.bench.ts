/**
 * The signature services of the simulated Konnektor against the card signatures they are built
 * on, all measured in the same run through the same pcscd:
 *
 *   konnektor.card_sign        raw card signatures through PC/SC (CardAccess.signHash, PIN.QES verified once): throughput
 *   konnektor.sign_document    SignDocument over SOAP/HTTP, one document per call (PIN entry,
 *                              certificate, OCSP pre-check from cache, CAdES, card signature): signatures/s, ratio to card_sign
 *   konnektor.sign_batch50     SignDocument with 50 documents per call (one PIN entry): signatures/s, ratio to card_sign
 *   konnektor.external_auth    ExternalAuthenticate (SMC-B AUT key, 32-byte hash) over SOAP/HTTP: calls/s, ratio to card_sign
 *
 * Needs root (the harness's pcscd runs in its own mount namespace) like bench/cards.bench.ts.
 */
import * as crypto from 'node:crypto';
import { SOAP11_ENVELOPE_NS } from '../simulators/lib/soap';
import { AUTH_SIGNATURE_SERVICE_PATH } from '../simulators/konnektor/auth-signature-service';
import { DSS_NS } from '../simulators/konnektor/dss';
import { SIGNATURE_SERVICE_PATH, type SignatureServiceState } from '../simulators/konnektor/signature-service';
import { startSignatureStack } from '../simulators/konnektor/testing/signature-stack';
import { round, benchVpcdPorts, type BenchContext, type Benchmark } from './run';

const MEASURE_MS = 3000;
const HBA = 'Dr. Hanna Ebert';
const SMCB = 'Praxis Dr. Hanna Ebert';
const BATCH = 50;


/** Runs `op` (which performs `units` operations per call) for about `ms`; returns operations per second. */
async function throughput(op: () => Promise<number>, ms = MEASURE_MS): Promise<{ perSecond: number; count: number }> {
  const t0 = process.hrtime.bigint();
  let count = 0;
  let elapsed = 0;
  while (elapsed < ms) {
    count += await op();
    elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  return { perSecond: (count * 1000) / elapsed, count };
}

const CTX =
  '<CCTX:Context><CONN:MandantId>Mandant-SIM</CONN:MandantId><CONN:ClientSystemId>CS-SIM</CONN:ClientSystemId><CONN:WorkplaceId>WP-SIM</CONN:WorkplaceId></CCTX:Context>';

async function post(url: string, ns: string, op: string, inner: string): Promise<string> {
  const body =
    `<soapenv:Envelope xmlns:soapenv="${SOAP11_ENVELOPE_NS}" xmlns:SIG="${ns}" xmlns:CONN="${DSS_NS.CONN}" xmlns:CCTX="${DSS_NS.CCTX}" xmlns:dss="${DSS_NS.DSS}">` +
    `<soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${ns}#${op}"` }, body });
  const text = await res.text();
  if (res.status !== 200 || text.includes(':Fault>')) throw new Error(`${op} failed: HTTP ${res.status} ${text.slice(0, 400)}`);
  return text;
}

function signDocumentXml(handle: string, n: number): string {
  const reqs = Array.from({ length: n }, (_, i) => {
    const doc = Buffer.from(`<Bundle xmlns="http://hl7.org/fhir"><id value="160.000.000.000.${String(i).padStart(3, '0')}.00"/></Bundle>`).toString('base64');
    return (
      `<SIG:SignRequest RequestID="R${i}"><SIG:OptionalInputs><dss:SignatureType>urn:ietf:rfc:5652</dss:SignatureType><SIG:IncludeEContent>true</SIG:IncludeEContent></SIG:OptionalInputs>` +
      `<SIG:Document><dss:Base64Data MimeType="text/plain; charset=utf-8">${doc}</dss:Base64Data></SIG:Document><SIG:IncludeRevocationInfo>false</SIG:IncludeRevocationInfo></SIG:SignRequest>`
    );
  }).join('');
  return `<SIG:SignDocument><CONN:CardHandle>${handle}</CONN:CardHandle><SIG:Crypt>ECC</SIG:Crypt>${CTX}<SIG:TvMode>NONE</SIG:TvMode><SIG:JobNumber>BEN-001</SIG:JobNumber>${reqs}</SIG:SignDocument>`;
}

export const benchmark: Benchmark = {
  name: 'konnektor',
  description: 'SignDocument (single and batch of 50) and ExternalAuthenticate of the simulated Konnektor vs raw card signatures through PC/SC',
  async run(ctx: BenchContext) {
    const stack = await startSignatureStack({
      name: 'bench-konnektor',
      tmpPrefix: 'ti-bench-konnektor-',
      vpcdPort: benchVpcdPorts,
      slots: 2,
      personas: [HBA, SMCB],
      insert: [HBA, SMCB],
      authSignature: true,
      log: (m: string) => ctx.log(m),
    });
    try {
      const { access: cardAccess, url } = stack;
      const sig = stack.state as SignatureServiceState;
      const hba = cardAccess.list().find((c) => c.type === 'HBA')?.handle as string;
      const smcb = cardAccess.list().find((c) => c.type === 'SMC-B')?.handle as string;

      // Raw card signatures through PC/SC: PIN.QES, then PSO CDS (SELECT + MSE SET + PSO per call, as signHash
      // does); a new VERIFY after every 250 signatures, the HBA's SSEC limit per PIN entry. Measured before and
      // after the SOAP figures; the better of the two is the baseline (the machine is shared, so be conservative).
      const digest = crypto.createHash('sha256').update('bench').digest();
      const measureRaw = async () => {
        let left = 0;
        return throughput(async () => {
          if (left === 0) {
            if ((await cardAccess.verifyPin(hba, 'PIN.QES')).result !== 'OK') throw new Error('PIN.QES not verified');
            left = 250;
          }
          await cardAccess.signHash(hba, 'PrK.HP.QES', digest);
          left--;
          return 1;
        });
      };
      const sigUrl = `${url}${SIGNATURE_SERVICE_PATH}`;
      const single = signDocumentXml(hba, 1);
      for (let i = 0; i < 20; i++) await post(sigUrl, DSS_NS.SIG75, 'SignDocument', single); // warm-up (JIT, certificate, OCSP cache)
      const rawBefore = await measureRaw();
      const one = await throughput(async () => {
        await post(sigUrl, DSS_NS.SIG75, 'SignDocument', single);
        return 1;
      });

      const batch = signDocumentXml(hba, BATCH);
      const pins0 = sig.stats.pinEntries;
      const many = await throughput(async () => {
        await post(sigUrl, DSS_NS.SIG75, 'SignDocument', batch);
        return BATCH;
      });
      const calls = many.count / BATCH;
      if (sig.stats.pinEntries - pins0 !== calls) throw new Error(`expected one PIN entry per batch call, got ${sig.stats.pinEntries - pins0} for ${calls} calls`);

      if ((await cardAccess.verifyPin(smcb, 'PIN.SMC')).result !== 'OK') throw new Error('PIN.SMC not verified');
      const authUrl = `${url}${AUTH_SIGNATURE_SERVICE_PATH}`;
      const ea =
        `<SIG:ExternalAuthenticate><CONN:CardHandle>${smcb}</CONN:CardHandle>${CTX}<SIG:OptionalInputs><dss:SignatureType>urn:bsi:tr:03111:ecdsa</dss:SignatureType></SIG:OptionalInputs>` +
        `<SIG:BinaryString><dss:Base64Data MimeType="application/octet-stream">${digest.toString('base64')}</dss:Base64Data></SIG:BinaryString></SIG:ExternalAuthenticate>`;
      const auth = await throughput(async () => {
        await post(authUrl, DSS_NS.SIG74, 'ExternalAuthenticate', ea);
        return 1;
      });
      const rawAfter = await measureRaw();
      const raw = rawAfter.perSecond > rawBefore.perSecond ? rawAfter : rawBefore;
      ctx.emit({ bench: 'konnektor.card_sign', metric: 'throughput', value: round(raw.perSecond), unit: '1/s' });
      const vs = (bench: string, perSecond: number) =>
        ctx.emit({ bench, metric: 'throughput', value: round(perSecond), unit: '1/s', baseline: 'konnektor.card_sign', ratio: round(perSecond / raw.perSecond, 3) });
      vs('konnektor.sign_document', one.perSecond);
      vs('konnektor.sign_batch50', many.perSecond);
      vs('konnektor.external_auth', auth.perSecond);
      ctx.log(
        `card signatures ${round(rawBefore.perSecond)}/s before, ${round(rawAfter.perSecond)}/s after; SignDocument single ${round(one.perSecond)}/s (${one.count}); ` +
          `batch of ${BATCH} ${round(many.perSecond)}/s (${calls} calls); ExternalAuthenticate ${round(auth.perSecond)}/s (${auth.count})`,
      );
    } finally {
      await stack.stop();
    }
  },
};
