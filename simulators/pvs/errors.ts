/**
 * Typed errors of the simulated PVS. Konnektor faults stay `KonnektorFault` (lib/konnektor-client),
 * refused prescription data and invalid bundles stay `KbvBundleError` (lib/kbv-bundle); the PVS adds:
 */
import type { ValidationIssue } from '../lib/fhir';

/** The Fachdienst answered with an error (inner HTTP status + OperationOutcome). */
export class FachdienstError extends Error {
  override name = 'FachdienstError';
  constructor(
    /** Task.$create, Task.$activate, Task.$abort */
    readonly operation: string,
    /** Inner HTTP status (or the outer one for VAU-level errors). */
    readonly status: number,
    /** OperationOutcome.issue[0].details.text (production texts, e.g. "Task not in status draft but in status ready"). */
    readonly text: string,
    readonly details: { diagnostics?: string; code?: string; vauErrorCode?: string; prescriptionId?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(`${operation}${details.prescriptionId ? ` ${details.prescriptionId}` : ''}: HTTP ${status} ${text}${details.diagnostics ? ` (${details.diagnostics})` : ''}`, options);
  }
}

/** No access token: the IDP login with the SMC-B failed (cause: the IDP/authenticator error). */
export class PvsLoginError extends Error {
  override name = 'PvsLoginError';
}

/**
 * A_18613: the PVS refuses to send a prescription that is not a CMS SignedData of the bundle made
 * with the prescriber's HBA (C.HP.QES).
 */
export class UnsignedPrescriptionError extends Error {
  override name = 'UnsignedPrescriptionError';
}

/** The Konnektor answered SignDocument without a signature for a document (Status Warning + trace). */
export class SigningError extends Error {
  override name = 'SigningError';
  constructor(
    message: string,
    readonly trace: Array<{ code: number; errorText: string; detail?: string }> = [],
  ) {
    super(message);
  }
}

export type { ValidationIssue };
