/**
 * Prüfidentitäten (KVNR of a Prüfkarte eGK): the rule by which the E-Rezept-Fachdienst recognises a
 * test card identity (A_20751, as the production Fachdienst implements isVerificationIdentityKvnr):
 * the KVNR starts with "X0000" and its characters 6 to 9 are a number from 1 to 5000
 * (X000000001 … X000050009 with the check digit). Shared by the cards (personas) and the Fachdienst
 * (A_20755 communication, A_20756 representative access).
 */
export function isPruefidentitaetKvnr(kvnr: string): boolean {
  if (!/^[A-Z]\d{9}$/.test(kvnr) || !kvnr.startsWith('X0000')) return false;
  const n = Number(kvnr.slice(5, 9));
  return n >= 1 && n <= 5000;
}
