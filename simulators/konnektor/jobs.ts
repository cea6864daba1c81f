/**
 * Job numbers of the signature service (gemSpec_Kon 4.1.8.1.4 "Jobnummer").
 *
 * Facts (gemSpec_Kon V5.18.0, public Markdown conversion):
 * - TIP1-A_4642: derived from a random value (here: crypto.randomInt, a CSPRNG).
 * - TIP1-A_4643/4645: three letters A-Z, a hyphen, three digits 0-9 ("ABC-475", "HZF-696"); the
 *   schema pattern of SIG:JobNumber is `[A-Z][A-Z][A-Z]-[0-9][0-9][0-9]`.
 * - TIP1-A_4644: the Konnektor ensures the uniqueness of a job number (the list of rules is a
 *   table the public conversion drops); this simulator never repeats a number within the last
 *   1000 it issued (the same horizon gemSpec_Kon uses for UserIds, A_20074).
 * - "Der Konnektor stellt jedoch keine Verbindung zwischen erzeugten und verwendeten Jobnummern
 *   her": SignDocument does not check that a job number was issued before. `strict` mode (a
 *   harness option for negative tests, off by default) refuses numbers this Konnektor never issued.
 *
 * Running jobs are registered so StopSignature can abort a batch between two documents.
 */
import * as crypto from 'node:crypto';

export const JOB_NUMBER_PATTERN = /^[A-Z]{3}-[0-9]{3}$/;
/** How many issued numbers are remembered (no repetition within this window). */
export const JOB_NUMBER_HISTORY = 1000;

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function isWellFormedJobNumber(s: string): boolean {
  return JOB_NUMBER_PATTERN.test(s);
}

/** A fresh random job number (no uniqueness check). */
export function randomJobNumber(randomInt: (max: number) => number = (max) => crypto.randomInt(max)): string {
  const l = () => LETTERS[randomInt(26)];
  const d = () => String(randomInt(10));
  return `${l()}${l()}${l()}-${d()}${d()}${d()}`;
}

export interface RunningJob {
  jobNumber: string;
  /** Aborted by StopSignature; the batch loop checks it between documents. */
  signal: AbortSignal;
  /** Whether the job has ended (finished, failed or stopped). */
  readonly done: boolean;
  finish(): void;
}

export class JobNumbers {
  private readonly issued: string[] = [];
  private readonly issuedSet = new Set<string>();
  private readonly running = new Map<string, { controller: AbortController; job: RunningJob }>();

  constructor(
    private readonly opts: { history?: number; randomInt?: (max: number) => number } = {},
  ) {}

  /** GetJobNumber: a well-formed number not among the last `history` issued ones. */
  next(): string {
    const history = this.opts.history ?? JOB_NUMBER_HISTORY;
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const n = randomJobNumber(this.opts.randomInt);
      if (this.issuedSet.has(n)) continue;
      this.issued.push(n);
      this.issuedSet.add(n);
      while (this.issued.length > history) this.issuedSet.delete(this.issued.shift() as string);
      return n;
    }
    throw new Error('no unused job number found');
  }

  /** Whether this Konnektor issued the number (within the remembered window). */
  wasIssued(jobNumber: string): boolean {
    return this.issuedSet.has(jobNumber);
  }

  /** Registers a running signature job (SignDocument) under its job number. */
  start(jobNumber: string): RunningJob {
    const controller = new AbortController();
    let done = false;
    const job: RunningJob = {
      jobNumber,
      signal: controller.signal,
      get done() {
        return done;
      },
      finish: () => {
        done = true;
        if (this.running.get(jobNumber)?.job === job) this.running.delete(jobNumber);
      },
    };
    this.running.set(jobNumber, { controller, job });
    return job;
  }

  isRunning(jobNumber: string): boolean {
    return this.running.has(jobNumber);
  }

  /** StopSignature: aborts the running job; false when no job runs under that number. */
  stop(jobNumber: string): boolean {
    const r = this.running.get(jobNumber);
    if (!r) return false;
    r.controller.abort();
    return true;
  }
}
