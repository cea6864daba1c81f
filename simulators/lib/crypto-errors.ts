/**
 * Typed errors of the TI crypto library (bp256, der, jose, cms, vau).
 *
 * Every malformed input (empty, truncated, oversized, random bytes, wrong
 * OIDs, wrong key sizes, tampered tags) ends in one of these classes, never in
 * a raw TypeError/RangeError and never in a hang. Each error carries a stable
 * machine-readable `code`; the message is for humans.
 */

/** Codes shared by all low-level encoders/decoders (DER, base64, keys). */
export type CryptoFormatErrorCode =
  | 'EMPTY_INPUT'
  | 'TOO_LARGE'
  | 'TRUNCATED_DER'
  | 'INVALID_DER'
  | 'TOO_DEEP'
  | 'TRAILING_DATA'
  | 'UNEXPECTED_TAG'
  | 'UNEXPECTED_OID'
  | 'INVALID_VALUE'
  | 'INVALID_KEY'
  | 'INVALID_SIGNATURE_ENCODING';

export type CmsErrorCode =
  | CryptoFormatErrorCode
  | 'NOT_CMS'
  | 'UNSUPPORTED_VERSION'
  | 'UNSUPPORTED_ALGORITHM'
  | 'NO_SIGNER'
  | 'SIGNER_CERT_NOT_FOUND'
  | 'BAD_CERTIFICATE'
  | 'MISSING_ATTRIBUTE'
  | 'CONTENT_TYPE_MISMATCH'
  | 'DIGEST_MISMATCH'
  | 'SIGNING_CERTIFICATE_MISMATCH'
  | 'BAD_SIGNATURE'
  | 'DETACHED_CONTENT_REQUIRED'
  | 'INVALID_OPTIONS'
  | 'INTERNAL_ERROR';

export type JoseErrorCode =
  | 'TOO_LARGE'
  | 'MALFORMED'
  | 'INVALID_BASE64'
  | 'INVALID_JSON'
  | 'INVALID_HEADER'
  | 'ALG_NONE'
  | 'UNSUPPORTED_ALG'
  | 'ALG_MISMATCH'
  | 'UNSUPPORTED_ENC'
  | 'UNSUPPORTED_HEADER'
  | 'INVALID_KEY'
  | 'NO_KEY'
  | 'BAD_CERTIFICATE'
  | 'BAD_SIGNATURE'
  | 'INVALID_IV'
  | 'INVALID_TAG'
  | 'DECRYPTION_FAILED';

export type VauErrorCode =
  | 'EMPTY_INPUT'
  | 'TOO_LARGE'
  | 'TOO_SHORT'
  | 'UNSUPPORTED_VERSION'
  | 'INVALID_PUBLIC_KEY'
  | 'INVALID_KEY'
  | 'INVALID_IV'
  | 'DECRYPTION_FAILED'
  | 'MALFORMED_INNER_REQUEST'
  | 'MALFORMED_INNER_RESPONSE'
  | 'REQUEST_ID_MISMATCH';

/** Common base: `err instanceof TiCryptoError` catches every error of this library. */
export abstract class TiCryptoError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** Low-level format problems: DER/BER, base64, keys, signature encodings. */
export class CryptoFormatError extends TiCryptoError<CryptoFormatErrorCode> {
  override name = 'CryptoFormatError';
}

/** CMS / CAdES parsing, building and verification. */
export class CmsError extends TiCryptoError<CmsErrorCode> {
  override name = 'CmsError';
}

/** JWS / JWE (compact serialisation). */
export class JoseError extends TiCryptoError<JoseErrorCode> {
  override name = 'JoseError';
}

/** VAU transport (ECIES envelope, inner request/response framing). */
export class VauError extends TiCryptoError<VauErrorCode> {
  override name = 'VauError';
}

export function isTiCryptoError(e: unknown): e is TiCryptoError {
  return e instanceof TiCryptoError;
}
