/**
 * The OCSP responder of the simulated PKI (RFC 6960): answers each CertID from the status store.
 *
 * - The CA is found by issuerNameHash + issuerKeyHash (any hash algorithm node:crypto knows).
 * - good / revoked (time, reason) for certificates that CA issued; unknown for serial numbers it never
 *   issued and for issuers that are not ours.
 * - Each SingleResponse for a known certificate carries CertHash (1.3.36.8.3.13) and CertInDirSince
 *   (1.3.36.8.3.12), as real TI responses do.
 * - Signed by the delegated OCSP signer of the CA (id-kp-OCSPSigning); the signer and its CA certificate
 *   are included in `certs`. Requests for several CAs are signed by the first known CA's signer.
 * - Malformed requests get responseStatus malformedRequest, unexpected failures internalError.
 */
import * as crypto from 'node:crypto';
import { buildOcspErrorResponse, buildOcspResponse, OcspError, parseOcspRequest, type ParsedOcspRequest, type SingleResponseSpec } from '../lib/ocsp';
import { subjectPublicKeyBits } from '../lib/x509';
import { CA_NAMES, type CertificateAuthority, type Pki } from './hierarchy';

export interface OcspResponderOptions {
  /** Clock for producedAt / thisUpdate (default: the PKI's clock). */
  clock?: () => Date;
  /** When set, nextUpdate = thisUpdate + this many seconds; absent by default (always fresh). */
  nextUpdateSeconds?: number;
  /** Include the signer's CA certificate after the signer in `certs` (default true). */
  includeCaCertificate?: boolean;
  log?: (message: string) => void;
}

export type OcspResponder = (requestDer: Buffer) => Buffer;

function hashOf(alg: string, data: Buffer): Buffer | undefined {
  try {
    return crypto.createHash(alg).update(data).digest();
  } catch {
    return undefined;
  }
}

function findCa(pki: Pki, req: ParsedOcspRequest['requests'][number]): CertificateAuthority | undefined {
  for (const name of CA_NAMES) {
    const ca = pki.cas[name];
    const precomputed = req.hashAlgorithm === 'sha1' || req.hashAlgorithm === 'sha256';
    const nameHash = precomputed ? ca.nameHash[req.hashAlgorithm as 'sha1'] : hashOf(req.hashAlgorithm, ca.parsed.subjectDer);
    const keyHash = precomputed ? ca.keyHash[req.hashAlgorithm as 'sha1'] : hashOf(req.hashAlgorithm, subjectPublicKeyBits(ca.parsed.publicKey));
    if (nameHash && keyHash && nameHash.equals(req.issuerNameHash) && keyHash.equals(req.issuerKeyHash)) return ca;
  }
  return undefined;
}

export function createOcspResponder(pki: Pki, opts: OcspResponderOptions = {}): OcspResponder {
  const clock = opts.clock ?? (() => pki.clock());
  const includeCa = opts.includeCaCertificate ?? true;
  return (requestDer: Buffer): Buffer => {
    let parsed: ParsedOcspRequest;
    try {
      parsed = parseOcspRequest(requestDer);
    } catch (e) {
      if (e instanceof OcspError) return buildOcspErrorResponse('malformedRequest');
      opts.log?.(`ocsp: failed to parse request: ${String(e)}`);
      return buildOcspErrorResponse('internalError');
    }
    try {
      const now = clock();
      let signerCa: CertificateAuthority | undefined;
      const responses: SingleResponseSpec[] = parsed.requests.map((r) => {
        const base = {
          certId: r.certId,
          thisUpdate: now,
          nextUpdate: opts.nextUpdateSeconds ? new Date(now.getTime() + opts.nextUpdateSeconds * 1000) : undefined,
        };
        const ca = findCa(pki, r);
        if (!ca) return { ...base, status: 'unknown' as const };
        signerCa ??= ca;
        const record = pki.status(r.serialNumber);
        if (!record || record.ca !== ca.name) return { ...base, status: 'unknown' as const };
        const common = {
          ...base,
          certificateSha256: Buffer.from(record.certHash, 'hex'),
          certInDirSince: new Date(record.issuedAt),
        };
        if (record.status === 'revoked') {
          return {
            ...common,
            status: 'revoked' as const,
            revocationTime: record.revocationTime ? new Date(record.revocationTime) : now,
            revocationReason: record.revocationReason,
          };
        }
        return { ...common, status: 'good' as const };
      });
      const ca = signerCa ?? pki.root;
      return buildOcspResponse({
        responderCertificate: ca.ocspSigner.certificate,
        responderKey: ca.ocspSigner.privateKey,
        producedAt: now,
        responses,
        nonceExtensionValue: parsed.nonceExtensionValue,
        extraCertificates: includeCa ? [ca.certificate] : [],
      });
    } catch (e) {
      opts.log?.(`ocsp: internal error: ${(e as Error)?.stack ?? String(e)}`);
      return buildOcspErrorResponse('internalError');
    }
  };
}
