// The volatile state of one card session (current folder and file, security
// status, security environment) that the command handlers work on.

import { randomBytes } from 'node:crypto';
import type { CommandApdu, ResponseApdu } from '../../simulators/lib/apdu';
import type { DedicatedFile, ElementaryFile, PrivateKey, PublicKey } from './model';
import { SecurityState } from './security';
import type { ObjectTree } from './tree';

/** Key references set by MANAGE SECURITY ENVIRONMENT. */
export interface SecurityEnvironment {
  /** DST (P1P2 41B6): key and algorithm for PSO COMPUTE DIGITAL SIGNATURE. */
  signing?: { key: PrivateKey; algId: number };
  /** AT (P1P2 41A4): key and algorithm for INTERNAL AUTHENTICATE. */
  authentication?: { key: PrivateKey; algId: number };
  /** DST (P1P2 81B6): public key for PSO VERIFY CERTIFICATE. */
  verification?: { key: PublicKey };
  /** AT (P1P2 81A4): public key reference for EXTERNAL AUTHENTICATE. */
  external?: { reference: Buffer; algId?: number };
  /** AT (P1P2 C1A4): PACE protocol OID and password reference. */
  pace?: { oid: Buffer; keyRef: number };
}

export class CardContext {
  currentDf: DedicatedFile;
  currentEf?: ElementaryFile;
  se: SecurityEnvironment = {};
  readonly security: SecurityState;
  /** Random number of the last GET CHALLENGE. */
  challenge?: Buffer;

  constructor(
    readonly tree: ObjectTree,
    readonly random: (n: number) => Buffer = randomBytes,
  ) {
    this.currentDf = tree.root;
    this.security = new SecurityState(tree);
  }

  /** Make `df` the current folder: no current EF, key references cleared, DF-specific security status outside the new path cleared. */
  selectFolder(df: DedicatedFile): void {
    this.currentDf = df;
    this.currentEf = undefined;
    this.se = {};
    this.security.onFolderChange(df);
  }

  selectFile(ef: ElementaryFile): void {
    this.currentEf = ef;
  }

  /** Back to the state after reset: MF selected, no security status. */
  resetState(): void {
    this.currentDf = this.tree.root;
    this.currentEf = undefined;
    this.se = {};
    this.challenge = undefined;
    this.security.clear();
  }
}

export type CommandHandler = (ctx: CardContext, apdu: CommandApdu) => ResponseApdu;
