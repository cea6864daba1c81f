/**
 * The PVS's local store of E-Rezept-Token (A_18616): a token is kept while its prescription can
 * be redeemed (Task ready) and removed when the prescription is deleted ($abort) or the PVS
 * learns it is no longer redeemable.
 */
import type { ERezeptToken } from '../lib/erezept-token';

export interface StoredPrescription {
  token: ERezeptToken;
  /** KVNR of the patient. */
  kvnr: string;
  /** Task status as last seen by the PVS. */
  status: 'ready' | 'cancelled';
  /** The signed prescription (CMS) the PVS sent. */
  signedBundle: Buffer;
  activatedAt: Date;
}

export class TokenStore {
  private readonly entries = new Map<string, StoredPrescription>();

  put(entry: StoredPrescription): void {
    this.entries.set(entry.token.prescriptionId, entry);
  }

  get(prescriptionId: string): StoredPrescription | undefined {
    return this.entries.get(prescriptionId);
  }

  /** Tokens of prescriptions that can be redeemed (Task ready), optionally of one patient. */
  redeemable(kvnr?: string): ERezeptToken[] {
    return [...this.entries.values()].filter((e) => e.status === 'ready' && (kvnr === undefined || e.kvnr === kvnr)).map((e) => e.token);
  }

  /** Forgets a prescription (deleted or no longer redeemable); true if it was known. */
  remove(prescriptionId: string): boolean {
    return this.entries.delete(prescriptionId);
  }

  get size(): number {
    return this.entries.size;
  }
}
