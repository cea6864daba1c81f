/** Typed errors of the DataMatrix encoder, renderers and decoder. */

export type DataMatrixErrorCode =
  | 'INVALID_TEXT'
  | 'TEXT_TOO_LONG'
  | 'INVALID_OPTIONS'
  | 'NOT_A_PNG'
  | 'IMAGE_TOO_LARGE'
  | 'NO_CODE_FOUND'
  | 'UNREADABLE_CODE';

export class DataMatrixError extends Error {
  override name = 'DataMatrixError';
  constructor(
    readonly code: DataMatrixErrorCode,
    message: string,
  ) {
    super(message);
  }
}
