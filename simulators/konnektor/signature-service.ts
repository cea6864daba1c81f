/**
 * SignatureService 7.5 of the simulated Konnektor (SignatureService_V7_5_6.wsdl): GetJobNumber,
 * SignDocument (CAdES, single and batch, QES with the HBA, nonQES with the SMC-B's OSIG key),
 * VerifyDocument, StopSignature and the comfort signature (ActivateComfortSignature,
 * DeactivateComfortSignature, GetSignatureMode).
 *
 * Every signature is computed by the card through PC/SC (CardAccess.signHash); this module
 * builds the CMS around it (simulators/lib/cms.ts, buildSignedDataAsync). PIN entry is the
 * simulated PIN pad of the card layer (persona PIN unless the admin API queued others).
 *
 *   registerSignatureServices(router)            // from service.ts (also exported as `register`)
 *
 * See docs/konnektor.md, section "SignatureService / AuthSignatureService", for the facts behind
 * each behaviour and the error codes.
 */
import * as crypto from 'node:crypto';
import { buildSignedDataAsync, CMS_OID, type CmsAttribute } from '../lib/cms';
import { derImplicit, derOid, derSequence, derUtf8String } from '../lib/der';
import { parseOcspResponse, queryOcsp } from '../lib/ocsp';
import { isSoapFault, konnektorFault, type SoapFault, type TelematikTrace } from '../lib/soap';
import { parseCertificate } from '../lib/x509';
import { SW } from '../lib/apdu';
import type { CardInfo, SigningKeyName } from './card-access';
import { ComfortError, ComfortSignatures, xsdDuration, type ComfortConfig, type ComfortSession } from './comfort';
import type { KonnektorContext } from './context';
import {
  buildActivateComfortSignatureResponse,
  buildDeactivateComfortSignatureResponse,
  buildGetJobNumberResponse,
  buildGetSignatureModeResponse,
  buildSignDocumentResponse,
  buildStopSignatureResponse,
  buildVerifyDocumentResponse,
  DSS_NS,
  MAX_DOCUMENT_BYTES,
  parseCardHandleAndContext,
  parseDeactivateComfortSignature,
  parseGetJobNumber,
  parseSignDocument,
  parseStopSignature,
  parseVerifyDocument,
  SIG75_ACTION,
  SIG_ERRORS,
  SIGNATURE_TYPE,
  traceOf,
  type SignRequestInput,
  type SignResponseOutput,
} from './dss';
import { JobNumbers } from './jobs';
import type { SoapRequest, SoapRouter } from './soap-router';
import type { XmlElement } from '../lib/xml';
import { NotCmsError, verifyCmsSignature, type TrustStore } from './verify-document';

export const SIGNATURE_SERVICE_PATH = '/ws/SignatureService';

/** PSO COMPUTE DIGITAL SIGNATUREs the HBA allows per PIN.QES verification (EF.SSEC, cards/objsys/hba.ts). */
export const QES_SIGNATURES_PER_PIN = 250;

export interface SignatureServiceOptions {
  /** Largest document to sign/verify in bytes (default 10 MiB, the CMS library's limit). */
  maxDocumentBytes?: number;
  /** Comfort signature configuration (default: enabled, 250 signatures, 24 h). */
  comfort?: Partial<ComfortConfig>;
  /** Refuse SignDocument with a job number this Konnektor never issued (default false, as gemSpec_Kon). */
  strictJobNumbers?: boolean;
  /** Check the signer certificate (validity, OCSP) before signing, as TUC_KON_152 does (default true). */
  checkSignerCertificate?: boolean;
  /** How long an OCSP answer for the pre-signing check is reused, ms (default 60 s). */
  ocspCacheMs?: number;
  /** Signatures per PIN entry in a batch (default 250, the HBA's SSEC limit). */
  signaturesPerPin?: number;
  /**
   * Put the issuing CA's certificate into the CMS next to the signer's (default true), so that
   * `openssl cms -verify -CAfile <root>` finds the path; the real Konnektor samples carry only
   * the signer certificate.
   */
  includeIssuerCertificate?: boolean;
}

/** The state of one Konnektor's signature service (for tests and the admin view). */
export interface SignatureServiceState {
  jobs: JobNumbers;
  comfort: ComfortSignatures;
  options: Required<Omit<SignatureServiceOptions, 'comfort'>>;
  /** Counters for tests and benchmarks. */
  stats: { pinEntries: number; cardSignatures: number; comfortSignatures: number };
}

interface SignerSetup {
  kind: 'QES' | 'nonQES';
  key: SigningKeyName;
  pin: 'PIN.QES' | 'PIN.SMC';
  certRef: 'C.QES' | 'C.SIG';
}

function signerFor(card: CardInfo): SignerSetup {
  if (card.type === 'HBA') return { kind: 'QES', key: 'PrK.HP.QES', pin: 'PIN.QES', certRef: 'C.QES' };
  if (card.type === 'SMC-B') return { kind: 'nonQES', key: 'PrK.HCI.OSIG', pin: 'PIN.SMC', certRef: 'C.SIG' };
  throw konnektorFault(SIG_ERRORS.wrongCardType.code, `SignDocument needs an HBA (QES) or an SMC-B (nonQES); the handle names a card of type ${card.type}`);
}

/** CMSAlgorithmProtection (RFC 6211) for SHA-256 with ecdsa-with-SHA256, as the real Konnektor samples carry it. */
function algorithmProtection(): CmsAttribute {
  const value = derSequence(derSequence(derOid(CMS_OID.sha256)), derImplicit(1, derOid(CMS_OID.ecdsaWithSha256), true));
  return { oid: CMS_OID.cmsAlgorithmProtection, values: [value] };
}

/** ContentHints (RFC 2634): contentDescription = the document's ShortText, contentType id-data. */
function contentHint(shortText: string | undefined): CmsAttribute {
  const parts = shortText ? [derUtf8String(shortText), derOid(CMS_OID.data)] : [derOid(CMS_OID.data)];
  return { oid: CMS_OID.contentHint, values: [derSequence(...parts)] };
}

/** mimeType (ETSI EN 319 122, 0.4.0.1733.2.1) from Base64Data@MimeType. */
function mimeType(type: string): CmsAttribute {
  return { oid: CMS_OID.mimeType, values: [derUtf8String(type)] };
}

function isCardGone(e: unknown): e is SoapFault {
  return isSoapFault(e) && e.code === 4008;
}

function isSecurityStatus(e: unknown): boolean {
  return isSoapFault(e) && (e as SoapFault & { sw?: number }).sw === SW.SECURITY_STATUS_NOT_SATISFIED;
}

/**
 * A card pulled in the middle of an APDU can surface as another PC/SC error than "removed"
 * (the reader reports the removal at its next presence poll, ≤ 0.4 s later). When the card has
 * left within a second, the failure is reported as 4008 (card not inserted).
 */
async function asCardGone(k: KonnektorContext, card: CardInfo, e: unknown): Promise<unknown> {
  if (isCardGone(e)) return e;
  for (let i = 0; i < 20; i++) {
    if (!k.cards.info(card.handle)) {
      return konnektorFault(4008, `the ${card.type} ${card.iccsn ?? ''} was removed during the job (${(e as Error)?.message ?? String(e)})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return e;
}

function faultTrace(e: unknown): TelematikTrace {
  if (isSoapFault(e) && e.trace.length) return e.trace[0];
  return traceOf(4001, (e as Error)?.message ?? String(e));
}

export function trustStoreOf(k: KonnektorContext): TrustStore {
  return { anchors: [k.pki.rootCertificate], intermediates: Object.values(k.pki.cas).map((c) => c.certificate) };
}

/** DER OCSPResponse for `cert` from the PKI's responder (k.pkiUrl), else the certificate's AIA. */
export async function fetchOcspDer(k: KonnektorContext, cert: Buffer, issuer: Buffer): Promise<Buffer | undefined> {
  const urls = [`${k.pkiUrl.replace(/\/+$/, '')}/ocsp`, ...parseCertificate(cert).ocspUrls];
  let last: unknown;
  for (const url of [...new Set(urls)]) {
    try {
      const r = await queryOcsp(url, cert, issuer, { timeoutMs: 5000 });
      if (r.responseStatus === 'successful') return r.der;
    } catch (e) {
      last = e;
    }
  }
  if (last) k.log(`OCSP for ${parseCertificate(cert).serialNumber} unavailable: ${(last as Error).message}`);
  return undefined;
}

/** Registers the SignatureService 7.5 operations; returns the service state. */
export function registerSignatureServices(router: SoapRouter, opts: SignatureServiceOptions = {}): SignatureServiceState {
  let clock: () => Date = () => new Date();
  const state: SignatureServiceState = {
    jobs: new JobNumbers(),
    comfort: new ComfortSignatures({ config: opts.comfort, now: () => clock().getTime() }),
    options: {
      maxDocumentBytes: opts.maxDocumentBytes ?? MAX_DOCUMENT_BYTES,
      strictJobNumbers: opts.strictJobNumbers ?? false,
      checkSignerCertificate: opts.checkSignerCertificate ?? true,
      ocspCacheMs: opts.ocspCacheMs ?? 60_000,
      signaturesPerPin: opts.signaturesPerPin ?? QES_SIGNATURES_PER_PIN,
      includeIssuerCertificate: opts.includeIssuerCertificate ?? true,
    },
    stats: { pinEntries: 0, cardSignatures: 0, comfortSignatures: 0 },
  };
  const ocspCache = new Map<string, { at: number; status: 'good' | 'revoked' | 'unknown'; revokedAt?: Date }>();
  /** Parsed signer certificates and their issuing CA (DER), by SHA-256 of the certificate. */
  const certCache = new Map<string, { parsed: ReturnType<typeof parseCertificate>; issuer?: Buffer }>();
  const certInfo = (k: KonnektorContext, der: Buffer) => {
    const key = crypto.createHash('sha256').update(der).digest('hex');
    let e = certCache.get(key);
    if (!e) {
      const parsed = parseCertificate(der);
      e = { parsed, issuer: k.pki.issuerOf(parsed)?.certificate };
      if (certCache.size > 256) certCache.clear();
      certCache.set(key, e);
    }
    return e;
  };
  let bound: KonnektorContext | undefined;
  /** First call: bind the clock and follow card removals (a removed HBA ends its comfort sessions). */
  const bind = (k: KonnektorContext) => {
    if (bound === k) return;
    bound = k;
    clock = k.clock;
    k.cards.onCardEvent((e) => {
      if (e.type === 'removed') state.comfort.endCard(e.card.handle, 'card-removed');
    });
  };

  const add = (local: string, handler: (req: SoapRequest, k: KonnektorContext) => Promise<XmlElement>, context: 'required' | 'none' = 'required') =>
    router.registerOperation({
      path: SIGNATURE_SERVICE_PATH,
      soapAction: SIG75_ACTION(local),
      requestElement: { ns: DSS_NS.SIG75, local },
      context,
      handler: async (req, k) => {
        bind(k);
        return handler(req, k);
      },
    });

  add('GetJobNumber', async (req) => {
    parseGetJobNumber(req.body);
    return buildGetJobNumberResponse(state.jobs.next());
  });

  add('StopSignature', async (req, k) => {
    const { jobNumber } = parseStopSignature(req.body);
    if (!state.jobs.stop(jobNumber)) throw konnektorFault(SIG_ERRORS.unknownJob.code, `no signature job runs under job number ${jobNumber}`);
    return buildStopSignatureResponse(k.clock());
  });

  /** TUC_KON_152-like check of the signer certificate: validity period now, OCSP status. */
  const checkSigner = async (k: KonnektorContext, certDer: Buffer): Promise<void> => {
    if (!state.options.checkSignerCertificate) return;
    const { parsed: c, issuer } = certInfo(k, certDer);
    const now = k.clock();
    if (now < c.notBefore || now > c.notAfter) {
      throw konnektorFault(SIG_ERRORS.signerCertificateInvalid.code, `the signer certificate ${c.subject} is valid ${c.notBefore.toISOString()} .. ${c.notAfter.toISOString()}, not at ${now.toISOString()}`);
    }
    if (!issuer) return; // not from this PKI: nothing to ask
    const key = c.serialNumber;
    const cached = ocspCache.get(key);
    let entry = cached && Date.now() - cached.at < state.options.ocspCacheMs ? cached : undefined;
    if (!entry) {
      const der = await fetchOcspDer(k, certDer, issuer);
      if (!der) return; // responder unreachable: signing goes on (logged)
      const single = parseOcspResponse(der).responses.find((r) => r.serialNumber === c.serialNumber);
      entry = { at: Date.now(), status: single?.certStatus ?? 'unknown', ...(single?.revocationTime ? { revokedAt: single.revocationTime } : {}) };
      ocspCache.set(key, entry);
    }
    if (entry.status === 'revoked') {
      throw konnektorFault(SIG_ERRORS.signerCertificateInvalid.code, `the signer certificate ${c.subject} is revoked (since ${entry.revokedAt?.toISOString() ?? '?'})`);
    }
  };

  /** PIN entry at the terminal (simulated PIN pad) with the outcome as a fault when it failed. */
  const enterPin = async (req: SoapRequest, k: KonnektorContext, card: CardInfo, pin: string): Promise<void> => {
    state.stats.pinEntries++;
    req.countPinEntry?.();
    const out = await k.cards.verifyPin(card.handle, pin);
    switch (out.result) {
      case 'OK':
        return;
      case 'REJECTED':
        throw konnektorFault(SIG_ERRORS.pinRejected.code, `${pin} of ${card.type} ${card.iccsn ?? ''} was entered wrongly (${out.leftTries ?? '?'} tries left)`);
      case 'NOWBLOCKED':
      case 'WASBLOCKED':
        throw konnektorFault(SIG_ERRORS.pinBlocked.code, `${pin} of ${card.type} ${card.iccsn ?? ''} is blocked`);
      case 'TRANSPORT_PIN':
        throw konnektorFault(SIG_ERRORS.wrongCardType.code, `${pin} of ${card.type} ${card.iccsn ?? ''} still has its transport PIN`);
      default:
        throw konnektorFault(SIG_ERRORS.wrongCardType.code, `${pin} of ${card.type} ${card.iccsn ?? ''} cannot be verified (${out.result})`);
    }
  };

  add('SignDocument', async (req, k) => {
    const input = parseSignDocument(req.body, { maxDocumentBytes: state.options.maxDocumentBytes });
    const ctx = req.context as NonNullable<SoapRequest['context']>;
    const card = k.cards.require(input.cardHandle);
    k.model.checkTerminalAccess(ctx, card.ctId);
    const setup = signerFor(card);
    if (input.crypt === 'RSA') {
      throw konnektorFault(SIG_ERRORS.signatureTypeNotSupported.code, 'Crypt=RSA: the cards of the simulated TI carry ECC (brainpoolP256r1) keys only');
    }
    if (!input.jobNumber) throw konnektorFault(4000, 'SignDocument needs a JobNumber at the Konnektor (get one with GetJobNumber)');
    if (state.options.strictJobNumbers && !state.jobs.wasIssued(input.jobNumber)) {
      throw konnektorFault(SIG_ERRORS.unknownJob.code, `job number ${input.jobNumber} was not issued by this Konnektor (strict job numbers)`);
    }
    if (state.jobs.isRunning(input.jobNumber)) throw konnektorFault(4000, `a signature job with job number ${input.jobNumber} is already running`);
    for (const r of input.requests) checkSignRequest(r);

    const certDer = await k.cards.readCertificate(card.handle, setup.certRef);
    if (!certDer) throw konnektorFault(SIG_ERRORS.wrongCardType.code, `the ${card.type} holds no ${setup.certRef} certificate`);
    await checkSigner(k, certDer);
    const issuerDer = certInfo(k, certDer).issuer;
    const chain = state.options.includeIssuerCertificate && issuerDer ? [issuerDer] : [];

    const job = state.jobs.start(input.jobNumber);
    const n = input.requests.length;
    let comfort: ComfortSession | undefined = setup.kind === 'QES' ? state.comfort.reserve(card.handle, ctx.userId, n) : undefined;
    const results: Array<{ r: SignRequestInput; cms?: Buffer; signature?: Buffer; digest?: Buffer; signingTime?: Date; trace?: TelematikTrace }> = [];
    let leftUnderPin = 0;
    let failure: unknown;
    try {
      for (const r of input.requests) {
        if (failure !== undefined) {
          results.push({ r, trace: faultTrace(failure) });
          continue;
        }
        if (job.signal.aborted) {
          failure = konnektorFault(SIG_ERRORS.jobStopped.code, `job ${input.jobNumber} was stopped by StopSignature`);
          results.push({ r, trace: faultTrace(failure) });
          continue;
        }
        try {
          for (let attempt = 0; ; attempt++) {
            if (!comfort && leftUnderPin <= 0) {
              await enterPin(req, k, card, setup.pin);
              leftUnderPin = state.options.signaturesPerPin;
            }
            try {
              const signingTime = k.clock();
              const built = await buildCms(k, card, setup, certDer, chain, r, signingTime, []);
              state.stats.cardSignatures++;
              if (comfort) state.stats.comfortSignatures++;
              else leftUnderPin--;
              results.push({ r, ...built, signingTime });
              break;
            } catch (e) {
              // The HBA's security state was reset (another folder selected, card reset): the comfort
              // session ends (gemSpec_Kon 4.1.8.1.5) and this batch continues with a PIN entry.
              if (attempt === 0 && isSecurityStatus(e)) {
                if (comfort) {
                  state.comfort.endSession(comfort, 'security-state-reset');
                  comfort = undefined;
                }
                leftUnderPin = 0;
                continue;
              }
              throw e;
            }
          }
        } catch (e) {
          failure = await asCardGone(k, card, e);
          results.push({ r, trace: faultTrace(failure) });
        }
      }
    } finally {
      job.finish();
      if (comfort) state.comfort.release(comfort);
    }

    const signed = results.filter((x) => x.cms);
    if (!signed.length) throw isSoapFault(failure) ? failure : konnektorFault(4001, (failure as Error)?.message ?? 'no document was signed');

    // C_11276 (SignatureService 7.5.6): OCSP responses are fetched after the signatures were made.
    const wantsOcsp = signed.filter((x) => x.r.includeRevocationInfo);
    let ocspWarning: TelematikTrace | undefined;
    if (wantsOcsp.length) {
      const der = issuerDer ? await fetchOcspDer(k, certDer, issuerDer) : undefined;
      if (!der) ocspWarning = traceOf(4001, 'IncludeRevocationInfo: no OCSP response could be obtained; the signature carries none');
      else {
        for (const x of wantsOcsp) {
          const again = await buildCms(k, card, setup, certDer, chain, x.r, x.signingTime as Date, [der], { signature: x.signature as Buffer, digest: x.digest as Buffer });
          x.cms = again.cms;
        }
      }
    }

    const responses: SignResponseOutput[] = results.map((x) => {
      if (!x.cms) return { requestId: x.r.requestId, status: { result: 'Warning', error: [x.trace as TelematikTrace] } };
      const warn = x.r.includeRevocationInfo && ocspWarning;
      return {
        requestId: x.r.requestId,
        status: warn ? { result: 'Warning', error: [ocspWarning as TelematikTrace] } : { result: 'OK' },
        signature: x.cms,
        signatureType: SIGNATURE_TYPE.CMS,
      };
    });
    return buildSignDocumentResponse(responses, k.clock());
  });

  /** Signature types the simulator creates: CAdES only (XAdES/PAdES: 4111, as A_18756 allows for nonQES-XAdES). */
  function checkSignRequest(r: SignRequestInput): void {
    const type = r.signatureType ?? (r.document.isXml ? SIGNATURE_TYPE.XADES : SIGNATURE_TYPE.CMS);
    if (type !== SIGNATURE_TYPE.CMS && type !== SIGNATURE_TYPE.CADES_ETSI) {
      throw konnektorFault(
        SIG_ERRORS.signatureTypeNotSupported.code,
        `SignRequest ${r.requestId}: SignatureType ${type}${r.signatureType ? '' : ' (default for this document)'} is not supported; the simulator creates CAdES (${SIGNATURE_TYPE.CMS})`,
      );
    }
    const cadesIrrelevant = r.unsupportedInputs.filter((i) => ['IncludeObjects', 'SignaturePlacement', 'ReturnUpdatedSignature', 'GenerateUnderSignaturePolicy', 'Properties'].includes(i));
    if (cadesIrrelevant.length) {
      throw konnektorFault(SIG_ERRORS.signatureTypeNotSupported.code, `SignRequest ${r.requestId}: ${cadesIrrelevant.join(', ')} is not supported for CAdES by the simulator`);
    }
  }

  add('VerifyDocument', async (req, k) => {
    const input = parseVerifyDocument(req.body, { maxDocumentBytes: state.options.maxDocumentBytes });
    if (input.signature?.type && ![SIGNATURE_TYPE.CMS, SIGNATURE_TYPE.CADES_ETSI].includes(input.signature.type as typeof SIGNATURE_TYPE.CMS)) {
      throw konnektorFault(SIG_ERRORS.verifyTypeNotSupported.code, `Base64Signature@Type ${input.signature.type} is not supported; the simulator verifies CMS (${SIGNATURE_TYPE.CMS})`);
    }
    // Enveloping CAdES comes as SignatureObject; a CMS given as Document (Base64Data) is accepted too.
    let cms: Buffer;
    let detached: Buffer | undefined;
    if (input.signature) {
      cms = input.signature.value;
      detached = input.document?.content;
    } else {
      const doc = input.document as NonNullable<typeof input.document>;
      if (doc.isXml) throw konnektorFault(SIG_ERRORS.verifyTypeNotSupported.code, 'XML documents (XAdES) are not verified by the simulator; send the CMS as SignatureObject');
      cms = doc.content;
    }
    let result;
    try {
      result = await verifyCmsSignature(
        cms,
        { detachedContent: detached, verificationTime: input.verificationTime, includeCertificateValues: input.reportOptions.includeCertificateValues },
        { trust: trustStoreOf(k), fetchOcsp: (c, i) => fetchOcspDer(k, c, i), now: () => k.clock() },
      );
    } catch (e) {
      if (e instanceof NotCmsError) throw konnektorFault(SIG_ERRORS.verifyTypeNotSupported.code, e.message);
      throw e;
    }
    return buildVerifyDocumentResponse(
      {
        highLevelResult: result.highLevelResult,
        timestampType: result.timestampType,
        timestamp: result.timestamp,
        status: { result: 'OK' },
        ...(input.returnVerificationReport ? { report: result.report } : {}),
      },
      k.clock(),
    );
  });

  add('ActivateComfortSignature', async (req, k) => {
    const { cardHandle } = parseCardHandleAndContext(req.body, 'ActivateComfortSignature');
    const ctx = req.context as NonNullable<SoapRequest['context']>;
    const card = k.cards.require(cardHandle);
    k.model.checkTerminalAccess(ctx, card.ctId);
    if (card.type !== 'HBA') throw konnektorFault(SIG_ERRORS.wrongCardType.code, `the comfort signature needs an HBA; the handle names a card of type ${card.type}`);
    if (!state.comfort.enabled) throw konnektorFault(SIG_ERRORS.comfortDisabled.code, 'SAK_COMFORT_SIGNATURE is Disabled');
    let userId: string;
    try {
      userId = state.comfort.checkActivation(ctx.userId);
    } catch (e) {
      if (e instanceof ComfortError) throw konnektorFault(e.code, e.message);
      throw e;
    }
    await enterPin(req, k, card, 'PIN.QES');
    state.comfort.activate(card.handle, userId);
    return buildActivateComfortSignatureResponse(k.clock(), 'COMFORT');
  });

  add(
    'DeactivateComfortSignature',
    async (req, k) => {
      const { cardHandles } = parseDeactivateComfortSignature(req.body);
      for (const h of cardHandles) {
        const card = k.cards.require(h);
        if (card.type !== 'HBA') throw konnektorFault(SIG_ERRORS.wrongCardType.code, `the comfort signature exists for HBAs only; ${h} names a card of type ${card.type}`);
      }
      for (const h of cardHandles) state.comfort.endCard(h, 'deactivated');
      return buildDeactivateComfortSignatureResponse(k.clock());
    },
    'none',
  );

  add('GetSignatureMode', async (req, k) => {
    const { cardHandle } = parseCardHandleAndContext(req.body, 'GetSignatureMode');
    const ctx = req.context as NonNullable<SoapRequest['context']>;
    const card = k.cards.require(cardHandle);
    k.model.checkTerminalAccess(ctx, card.ctId);
    if (card.type !== 'HBA') throw konnektorFault(SIG_ERRORS.wrongCardType.code, `the comfort signature exists for HBAs only; the handle names a card of type ${card.type}`);
    const s = state.comfort.session(card.handle, ctx.userId);
    return buildGetSignatureModeResponse(k.clock(), {
      status: state.comfort.enabled ? 'ENABLED' : 'DISABLED',
      max: state.comfort.config.maxSignatures,
      timer: xsdDuration(state.comfort.config.timerMs),
      ...(s ? { session: { mode: 'COMFORT' as const, countRemaining: s.remaining, timeRemaining: xsdDuration(state.comfort.timeRemaining(s)) } } : {}),
    });
  });

  return state;
}

/**
 * Builds the CAdES-BES: signed attributes contentType, signingTime, messageDigest,
 * signingCertificateV2 (by the library) plus CMSAlgorithmProtection, contentHint and mimeType as
 * real Konnektors add them; the card signs the SHA-256 of the signed attributes. With `reuse`,
 * the signature of an earlier build over the identical signed attributes is used (to add OCSP
 * responses after signing without a second card signature).
 */
async function buildCms(
  k: KonnektorContext,
  card: CardInfo,
  setup: SignerSetup,
  certDer: Buffer,
  chain: Buffer[],
  r: SignRequestInput,
  signingTime: Date,
  ocspResponses: Buffer[],
  reuse?: { signature: Buffer; digest: Buffer },
): Promise<{ cms: Buffer; signature: Buffer; digest: Buffer }> {
  const extra: CmsAttribute[] = [algorithmProtection(), contentHint(r.document.shortText)];
  if (r.document.mimeType) extra.push(mimeType(r.document.mimeType));
  let signature: Buffer | undefined;
  let digest: Buffer | undefined;
  const cms = await buildSignedDataAsync({
    content: r.document.content,
    signerCertificate: certDer,
    chain,
    signingTime,
    detached: !r.includeEContent,
    extraSignedAttributes: extra,
    ocspResponses,
    signDigest: async (d) => {
      digest = d;
      if (reuse) {
        if (!reuse.digest.equals(d)) throw new Error('signed attributes changed between the two builds');
        signature = reuse.signature;
        return reuse.signature;
      }
      signature = await k.cards.signHash(card.handle, setup.key, d);
      return signature;
    },
  });
  return { cms, signature: signature as Buffer, digest: digest as Buffer };
}

/** Contract of docs/konnektor.md: service.ts calls register(router). */
export function register(router: SoapRouter): void {
  registerSignatureServices(router);
}
