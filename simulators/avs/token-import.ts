/**
 * A_18549 (KANN): the AVS imports E-Rezept-Tokens from third-party apps — the token file the
 * E-Rezept-App exports (A_18537; format and strict parser in simulators/fdv/token-file.ts, docs/fdv.md).
 * The imported tokens are kept like scanned ones (AccessCode, A_18791), ready for $accept.
 *
 * "Das Primärsystem der abgebenden LEI darf nur E-Rezepte bearbeiten, zu deren Abgabe es gemäß
 * Metadaten berechtigt ist": the import takes only flow types a pharmacy dispenses (160, 169, 200,
 * 209 — the flow types of $accept by a pharmacy; 162, DiGA, goes to the Kostenträger). The whole file
 * is checked first: a refused file imports nothing (TokenFileError / TokenImportError).
 */
import { flowTypeOf, type ERezeptToken } from '../lib/erezept-token';
import { importTokens, TokenFileError } from '../fdv/token-file';

/** Flow types a pharmacy may accept (gemSpec_FD_eRp $accept; simulators/fachdienst/roles.ts acceptTask). */
export const PHARMACY_FLOW_TYPES: readonly string[] = ['160', '169', '200', '209'];

export class TokenImportError extends Error {
  override name = 'TokenImportError';
}

export { TokenFileError };

/** The part of the AVS the import needs (keeping a token). */
export interface TokenKeeper {
  remember(token: ERezeptToken): void;
}

/** Parses a token file, checks every token may be dispensed by a pharmacy, then keeps them all. */
export function importTokenFile(avs: TokenKeeper, file: string | Buffer): ERezeptToken[] {
  const tokens = importTokens(file);
  const foreign = tokens.filter((t) => !PHARMACY_FLOW_TYPES.includes(flowTypeOf(t.prescriptionId)));
  if (foreign.length) {
    throw new TokenImportError(
      `import: ${foreign.map((t) => `${t.prescriptionId} (flow type ${flowTypeOf(t.prescriptionId)})`).join(', ')} cannot be dispensed by a pharmacy (flow types ${PHARMACY_FLOW_TYPES.join(', ')}); nothing imported`,
    );
  }
  for (const t of tokens) avs.remember(t);
  return tokens;
}
