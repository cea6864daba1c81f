/**
 * A software ChallengeSigner for tests: an AUT key pair and certificate issued by the test's PKI
 * (pki.issue with C.HCI.AUT, C.CH.AUT or C.HP.AUT), signing in software instead of on a card.
 * Lets IDP tests — and the client side's tests — run the whole challenge-response without PC/SC.
 * Not for scenarios: those sign with the virtual cards (simulators/authenticator/signers/*).
 */
import type * as crypto from 'node:crypto';
import { bp256SignDigest } from '../../lib/bp256';
import type { CardKind, ChallengeSigner } from '../../authenticator/signer';
import type { IssuedCertificateWithKey, IssueRequest, Pki } from '../../pki/hierarchy';

export class SoftwareChallengeSigner implements ChallengeSigner {
  constructor(
    readonly kind: CardKind,
    readonly label: string,
    private readonly certificateDer: Buffer,
    private readonly privateKey: crypto.KeyObject,
  ) {}

  async autCertificate(): Promise<Buffer> {
    return this.certificateDer;
  }

  async signDigest(digest: Buffer): Promise<Buffer> {
    if (!Buffer.isBuffer(digest) || digest.length !== 32) throw new Error('signDigest needs a 32-byte SHA-256 digest');
    return bp256SignDigest(digest, this.privateKey, 'raw');
  }
}

const KIND_OF_PROFILE: Record<string, CardKind> = {
  'C.CH.AUT': 'eGK',
  'C.HCI.AUT': 'SMC-B',
  'C.HP.AUT': 'HBA',
};

export interface TestSigner {
  signer: SoftwareChallengeSigner;
  issued: IssuedCertificateWithKey;
}

/**
 * Issues a certificate (default profile C.HCI.AUT) with the PKI and wraps its key as a signer. Any
 * profile can be given — a C.HP.QES or C.CH.ENC certificate makes a signer the IDP must refuse.
 */
export function issueTestSigner(pki: Pki, request: Partial<IssueRequest> & { label?: string } = {}): TestSigner {
  const { label, ...req } = request;
  const profile = req.profile ?? 'C.HCI.AUT';
  const issued = pki.issue({ ...req, profile, publicKey: undefined });
  const kind = KIND_OF_PROFILE[profile] ?? (profile.startsWith('C.CH.') ? 'eGK' : profile.startsWith('C.HP.') ? 'HBA' : 'SMC-B');
  return { signer: new SoftwareChallengeSigner(kind, label ?? `${profile} ${issued.serialNumber}`, issued.certificate, issued.privateKey), issued };
}
