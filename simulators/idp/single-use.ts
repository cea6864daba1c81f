/**
 * Single use of challenges, consent tokens and authorization codes: each id is accepted once while
 * it is valid (replay → refused). Entries are dropped once their token has expired by the IDP's
 * clock (an expired token is refused for its expiry anyway).
 */
import type { SimClock } from '../lib/clock';

export class SingleUseRegistry {
  private readonly used = new Map<string, number>();
  private lastPrune = 0;

  constructor(private readonly clock: SimClock) {}

  /** Marks `id` (valid until `expSeconds`) as used; false when it was used before. */
  consume(id: string, expSeconds: number): boolean {
    this.prune();
    if (this.used.has(id)) return false;
    this.used.set(id, expSeconds);
    return true;
  }

  wasUsed(id: string): boolean {
    return this.used.has(id);
  }

  get size(): number {
    return this.used.size;
  }

  private prune(): void {
    const now = this.clock.nowSeconds();
    if (now === this.lastPrune) return;
    this.lastPrune = now;
    for (const [id, exp] of this.used) if (exp < now - 60) this.used.delete(id);
  }
}
