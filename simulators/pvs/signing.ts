/**
 * QES of the prescriptions with the doctor's HBA through the Konnektor (SignatureService 7.5),
 * in the three modes of A_18541:
 *   - single:  one SignDocument per bundle (one PIN entry each);
 *   - batch:   one SignDocument with all n bundles (one PIN entry);
 *   - comfort: ActivateComfortSignature once (one PIN entry) for a UserId of this PVS, then
 *              SignDocument calls without PIN while the Konnektor's limits (count, time) allow.
 * And the guard of A_18613: nothing leaves the PVS unless it is a CMS SignedData over exactly the
 * bundle, mathematically valid, made with the HBA's C.HP.QES.
 */
import * as crypto from 'node:crypto';
import { CmsError, verifySignedData } from '../lib/cms';
import type { KonnektorClient } from '../lib/konnektor-client';
import { SigningError, UnsignedPrescriptionError } from './errors';

export type SignatureMode = 'single' | 'batch' | 'comfort';
export const SIGNATURE_MODES: readonly SignatureMode[] = ['single', 'batch', 'comfort'];

/** Locates the HBA of the doctor (by ICCSN) and keeps its handle and C.QES. */
export interface HbaCard {
  handle: string;
  qesCertificate: Buffer;
}

export async function locateHba(konnektor: KonnektorClient, iccsn: string): Promise<HbaCard> {
  const cards = await konnektor.getCards({ cardType: 'HBA' });
  const card = cards.find((c) => c.iccsn === iccsn);
  if (!card) throw new SigningError(`the HBA ${iccsn} is not in a card terminal of this workplace (found: ${cards.map((c) => c.iccsn ?? c.cardHandle).join(', ') || 'none'})`);
  const qes = await konnektor.readCardCertificate(card.cardHandle, 'C.QES');
  if (!qes) throw new SigningError(`the HBA ${iccsn} holds no C.QES certificate`);
  return { handle: card.cardHandle, qesCertificate: qes };
}

export class PrescriptionSigner {
  private comfortClient: KonnektorClient | undefined;

  constructor(
    private readonly konnektor: KonnektorClient,
    private readonly hba: HbaCard,
    readonly mode: SignatureMode,
  ) {}

  /** Signs each document (the bundles' XML) in the configured mode; answers the CMS per document, in order. */
  async sign(documents: Buffer[]): Promise<Buffer[]> {
    if (!documents.length) return [];
    const docs = documents.map((content, i) => ({ content, mimeType: 'text/plain; charset=utf-8', shortText: `E-Rezept ${i + 1}` }));
    switch (this.mode) {
      case 'single': {
        const out: Buffer[] = [];
        for (const d of docs) out.push(...checked(await this.konnektor.signDocument(this.hba.handle, [d])));
        return out;
      }
      case 'batch':
        return checked(await this.konnektor.signDocument(this.hba.handle, docs));
      case 'comfort': {
        const client = await this.comfort();
        const out: Buffer[] = [];
        for (const d of docs) out.push(...checked(await client.signDocument(this.hba.handle, [d])));
        return out;
      }
      default:
        throw new TypeError(`unknown signature mode ${String(this.mode)}`);
    }
  }

  /** The client with this PVS's UserId and an active comfort session (activated when none is). */
  private async comfort(): Promise<KonnektorClient> {
    if (this.comfortClient) {
      const mode = await this.comfortClient.getSignatureMode(this.hba.handle);
      if (mode.session?.signatureMode === 'COMFORT' && mode.session.countRemaining > 0) return this.comfortClient;
    }
    // A fresh UserId per activation (the Konnektor refuses a UserId reused within 1000 activations, A_20074).
    const client = this.konnektor.withContext({ ...this.konnektor.context, userId: crypto.randomUUID() });
    await client.activateComfortSignature(this.hba.handle);
    this.comfortClient = client;
    return client;
  }

  /** Ends the comfort session, if any. */
  async close(): Promise<void> {
    if (this.comfortClient) {
      const c = this.comfortClient;
      this.comfortClient = undefined;
      await c.deactivateComfortSignature(this.hba.handle).catch(() => undefined);
      await c.close();
    }
  }
}

function checked(results: Awaited<ReturnType<KonnektorClient['signDocument']>>): Buffer[] {
  return results.map((r) => {
    if (!r.signature) throw new SigningError(`SignDocument ${r.requestId}: no signature (${r.result} ${r.trace.map((t) => `${t.code} ${t.errorText}`).join('; ')})`, r.trace);
    return r.signature;
  });
}

/**
 * A_18613 guard: `cms` must be a CMS SignedData that encapsulates exactly `bundle`, verifies, and
 * was made with the HBA certificate `qesCertificate`. Throws UnsignedPrescriptionError otherwise.
 */
export function assertSignedPrescription(cms: Buffer, bundle: Buffer, qesCertificate: Buffer): void {
  let v: ReturnType<typeof verifySignedData>;
  try {
    v = verifySignedData(cms);
  } catch (e) {
    throw new UnsignedPrescriptionError(`refused to send: the ePrescription is not a valid CMS SignedData (${e instanceof CmsError ? e.message : (e as Error).message})`);
  }
  if (!v.content.equals(bundle)) throw new UnsignedPrescriptionError('refused to send: the signature does not enclose the prescription bundle');
  if (v.signers.length !== 1 || !v.signers[0].certificate.equals(qesCertificate)) {
    throw new UnsignedPrescriptionError("refused to send: the signature was not made with the prescriber's HBA (C.HP.QES)");
  }
}
