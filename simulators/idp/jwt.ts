/**
 * The IDP's own JWTs: signed with puk_idp_sig (BP256R1), and the nested form gematik uses for
 * everything that leaves the IDP encrypted: JWE {alg dir | ECDH-ES, enc A256GCM, cty NJWT, exp}
 * whose plaintext is {"njwt": "<JWS>"}.
 */
import * as crypto from 'node:crypto';
import { CTY_NESTED_JWT, KID } from '../lib/idp-protocol';
import { decryptJweDir, encryptJweDir, payloadJson, verifyJws, signJws, JoseError } from '../lib/jose';

export type Claims = Record<string, unknown>;

export function randomId(bytes = 16): string {
  return crypto.randomBytes(bytes).toString('hex');
}

export class IdpJwt {
  constructor(
    private readonly signingKey: crypto.KeyObject,
    private readonly verificationKey: crypto.KeyObject,
  ) {}

  /** JWS {alg BP256R1, kid puk_idp_sig, typ} over `claims`. */
  sign(claims: Claims, typ = 'JWT'): string {
    return signJws(claims, this.signingKey, { kid: KID.idpSignature, typ });
  }

  /** Verifies a JWS of this IDP (signature with puk_idp_sig) and returns its claims; throws JoseError. */
  verify(jws: string, typ?: string): Claims {
    const v = verifyJws(jws, this.verificationKey, typ ? { typ } : {});
    return payloadJson<Claims>(v.payload);
  }

  /** JWE dir/A256GCM with `key` around {"njwt": jws}; `exp` also in the protected header. */
  sealDir(jws: string, key: Buffer, exp: number): string {
    return encryptJweDir(JSON.stringify({ njwt: jws }), key, { header: { cty: CTY_NESTED_JWT, exp } });
  }

  /** Opens a nested dir JWE made by sealDir (or a client with the same key); returns the inner JWS and the header. */
  openDir(jwe: string, key: Buffer): { njwt: string; header: Record<string, unknown> } {
    const { header, plaintext } = decryptJweDir(jwe, key);
    const njwt = payloadJson<{ njwt?: unknown }>(plaintext).njwt;
    if (typeof njwt !== 'string') throw new JoseError('MALFORMED', 'JWE plaintext has no "njwt" string');
    return { njwt, header };
  }
}
