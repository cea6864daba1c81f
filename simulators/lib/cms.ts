/**
 * CMS / CAdES for the TI (QES over prescriptions, signed receipts).
 *
 * Facade over the split modules:
 * - cms-parse.ts   parseSignedData: DER/BER, base64 or PEM -> content, certificates, attributes, OCSP
 * - cms-verify.ts  verifySignedData / verifyDetachedSignature: messageDigest + signature math
 * - cms-build.ts   buildSignedData / buildSignedDataAsync: CAdES-BES enveloping or detached
 * - cms-common.ts  OIDs, limits (MAX_CMS_SIZE = 10 MiB), certificate fields
 *
 * All errors are CmsError with a code (crypto-errors.ts).
 */
export { CMS_OID, MAX_CMS_SIZE, MAX_CMS_TEXT_SIZE, decodeCmsInput, certificateFields } from './cms-common';
export type { AlgorithmIdentifier, CertificateFields, CertificateInput } from './cms-common';
export { parseSignedData, findSignerCertificate, serialToBigInt } from './cms-parse';
export type {
  CmsAttribute,
  EssCertIdV2,
  IssuerSerial,
  AlgorithmProtection,
  SignerIdentifier,
  ParsedSignerInfo,
  OtherRevocationInfo,
  ParsedSignedData,
} from './cms-parse';
export { verifySignedData, verifyDetachedSignature, resolveSignatureScheme } from './cms-verify';
export type { CmsVerifyOptions, CmsVerification, CmsSignerVerification } from './cms-verify';
export { buildSignedData, buildSignedDataAsync } from './cms-build';
export type { BuildSignedDataOptions, DigestSigner } from './cms-build';
export { CmsError, type CmsErrorCode } from './crypto-errors';
