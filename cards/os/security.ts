// Volatile security state (which passwords are verified, comfort-signature
// counters) and evaluation of access rules against it.

import type { AccessCondition, CardObject, CommandPattern, DedicatedFile } from './model';
import type { AnyPassword, ObjectTree } from './tree';

interface VerifiedEntry {
  /** Remaining PSO COMPUTE DIGITAL SIGNATUREs (SSEC); undefined = unlimited. */
  ssecRemaining?: number;
}

/** CLA without the logical-channel bits (b2b1) — the form access rules use. */
export function normalisedCla(cla: number): number {
  return cla & 0xfc;
}

export function patternMatches(p: CommandPattern, cla: number, ins: number, p1: number, p2: number): boolean {
  return (
    p.ins === ins &&
    (p.cla === undefined || p.cla === normalisedCla(cla)) &&
    (p.p1 === undefined || p.p1 === p1) &&
    (p.p2 === undefined || p.p2 === p2)
  );
}

export class SecurityState {
  private readonly verified = new Map<AnyPassword, VerifiedEntry>();

  constructor(private readonly tree: ObjectTree) {}

  clear(): void {
    this.verified.clear();
  }

  isVerified(p: AnyPassword): boolean {
    return this.verified.has(p);
  }

  setVerified(p: AnyPassword): void {
    this.verified.set(p, { ssecRemaining: p.ssecLimit });
  }

  unsetVerified(p: AnyPassword): void {
    this.verified.delete(p);
  }

  /** Clear the status of DF-specific passwords that do not live in `current` or one of its ancestors. */
  onFolderChange(current: DedicatedFile): void {
    const path = new Set(this.tree.upwards(current));
    for (const p of [...this.verified.keys()]) {
      if (!path.has(this.tree.folderOf(p))) this.verified.delete(p);
    }
  }

  /**
   * Whether a command on `target` is allowed: some rule with a matching
   * pattern has a satisfied condition. Returns the passwords whose status
   * granted access (for SSEC accounting), or undefined when denied.
   */
  check(target: CardObject, cla: number, ins: number, p1: number, p2: number): AnyPassword[] | undefined {
    const folder = this.tree.folderOf(target);
    for (const r of target.accessRules) {
      if (!r.commands.some((c) => patternMatches(c, cla, ins, p1, p2))) continue;
      const used: AnyPassword[] = [];
      if (this.evaluate(r.condition, folder, used)) return used;
    }
    return undefined;
  }

  private evaluate(c: AccessCondition, folder: DedicatedFile, used: AnyPassword[]): boolean {
    switch (c.kind) {
      case 'always':
        return true;
      case 'never':
      case 'sm':
        return false;
      case 'pin': {
        const p = this.tree.password(folder, c.pwdRef);
        if (!p) return false;
        if (!p.enabled) return true; // a disabled password needs no verification
        if (!this.verified.has(p)) return false;
        used.push(p);
        return true;
      }
      case 'and': {
        const local: AnyPassword[] = [];
        if (!c.of.every((x) => this.evaluate(x, folder, local))) return false;
        used.push(...local);
        return true;
      }
      case 'or':
        for (const x of c.of) {
          const local: AnyPassword[] = [];
          if (this.evaluate(x, folder, local)) {
            used.push(...local);
            return true;
          }
        }
        return false;
    }
  }

  /**
   * Count one signature against the SSEC counters of the passwords that
   * granted it; a password whose counter reaches zero loses its status.
   */
  consumeSignature(passwords: AnyPassword[]): void {
    for (const p of passwords) {
      const e = this.verified.get(p);
      if (!e || e.ssecRemaining === undefined) continue;
      e.ssecRemaining -= 1;
      if (e.ssecRemaining <= 0) this.verified.delete(p);
    }
  }

  ssecRemaining(p: AnyPassword): number | undefined {
    return this.verified.get(p)?.ssecRemaining;
  }
}
