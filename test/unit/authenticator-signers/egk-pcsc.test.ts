/**
 * EgkPcscSigner (A_18818): the insured's eGK signs the IDP challenge directly through PC/SC —
 * real persona cards on the card OS behind a private pcscd. The certificate is C.CH.AUT from the
 * simulated PKI with the persona's KVNR, every signature verifies with it and is made by the card
 * (one PSO COMPUTE DIGITAL SIGNATURE per signature in the card's command log); PIN and card-type
 * failures come back as CardSignerError with the status word.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { loadPersona, type EgkPersona } from '../../../cards/index';
import { CardSignerError } from '../../../simulators/authenticator/signer';
import { EgkPcscSigner } from '../../../simulators/authenticator/signers/egk-pcsc';
import { bp256VerifyDigest } from '../../../simulators/lib/bp256';
import { parseCertificate } from '../../../simulators/lib/x509';
import { CERT_TYPE } from '../../../simulators/pki/oids';
import { count, INTERNAL_AUTHENTICATE, PSO_CDS, startSignerStack, type SignerStack } from './helpers';

const JONAS = 'Jonas Keller';
const LENA = 'Lena Sperber'; // PIN.CH blocked (negative.blockedPins)
const HBA = 'Dr. Hanna Ebert';
const ANNA = 'Anna Richter';
const MEHMET = 'Mehmet Yilmaz';

let stack: SignerStack;
const signers: EgkPcscSigner[] = [];

/** A signer on the test's pcscd; closed after the file. */
function signer(opts: ConstructorParameters<typeof EgkPcscSigner>[0]): EgkPcscSigner {
  const s = new EgkPcscSigner({ socket: stack.socket, findTimeoutMs: 1000, ...opts });
  signers.push(s);
  return s;
}

const digestOf = (text: string) => crypto.createHash('sha256').update(text).digest();

async function rejectsWith(p: Promise<unknown>, reason: CardSignerError['reason'], statusWord?: string): Promise<CardSignerError> {
  const e = await p.then(
    () => assert.fail(`expected CardSignerError ${reason}, but it succeeded`),
    (err: unknown) => err,
  );
  assert.ok(e instanceof CardSignerError, `expected CardSignerError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
  assert.equal(e.reason, reason, e.message);
  if (statusWord !== undefined) assert.equal(e.detail?.statusWord, statusWord, e.message);
  return e;
}

before(async () => {
  stack = await startSignerStack({ vpcdFrom: 46600, personas: [JONAS, LENA, HBA, ANNA, MEHMET], insert: [JONAS, LENA, HBA, ANNA] });
});

after(async () => {
  for (const s of signers) await s.close();
  await stack?.stop();
});

test('the eGK of Jonas Keller: C.CH.AUT from the PKI with his KVNR, signatures computed by the card and valid with it', async () => {
  const s = signer({ persona: JONAS });
  assert.equal(s.kind, 'eGK');
  assert.equal(s.label, JONAS);
  const der = await s.autCertificate();
  const cert = parseCertificate(der);
  const persona = loadPersona(JONAS) as EgkPersona;
  assert.ok(cert.policies.includes(CERT_TYPE.egkAut), `certificate type C.CH.AUT (${CERT_TYPE.egkAut}) in ${cert.policies.join(', ')}`);
  assert.equal(stack.pki.issuerOf(cert)?.name, 'egk-ca', 'issued by the eGK CA of the simulated PKI');
  assert.ok(cert.subjectAttributes.some((a) => a.value === persona.insurance.kvnr), `KVNR ${persona.insurance.kvnr} in the subject ${cert.subject}`);
  assert.equal(cert.namedCurve, 'brainpoolP256r1');

  const psoBefore = count(stack.commands, JONAS, PSO_CDS);
  const cmdsBefore = stack.commands.get(JONAS)?.length ?? 0;
  for (let i = 0; i < 3; i++) {
    const digest = digestOf(`challenge ${i}`);
    const sig = await s.signDigest(digest);
    assert.equal(sig.length, 64, 'raw r‖s');
    assert.ok(bp256VerifyDigest(digest, sig, cert.publicKey), `signature ${i} verifies with C.CH.AUT`);
    assert.equal(bp256VerifyDigest(digestOf('another challenge'), sig, cert.publicKey), false, 'and only over its own digest');
  }
  assert.equal(count(stack.commands, JONAS, PSO_CDS) - psoBefore, 3, 'one PSO COMPUTE DIGITAL SIGNATURE per signature');
  assert.equal(count(stack.commands, JONAS, INTERNAL_AUTHENTICATE), 0, 'the E256 AUT key signs with PSO CDS, not INTERNAL AUTHENTICATE');
  // One signature = one transaction: card check, DF.ESIGN, certificate, MRPIN.home, MSE SET, PSO CDS.
  const oneSignature = ['00A4040C', '00B08200', '00A4040C', '00B08400', '00200002', '002241B6', PSO_CDS];
  assert.deepEqual(stack.commands.get(JONAS)?.slice(cmdsBefore, cmdsBefore + 7), oneSignature);
  assert.deepEqual(await s.autCertificate(), der, 'the same certificate afterwards');
});

test('the card is found by ICCSN or by reader name as well, and must be named when several eGKs are inserted', async () => {
  const persona = loadPersona(JONAS) as EgkPersona;
  const byPersona = await signer({ persona: JONAS }).autCertificate();
  const byIccsn = signer({ iccsn: persona.iccsn, pin: persona.pins['PIN.CH'].pin });
  assert.deepEqual(await byIccsn.autCertificate(), byPersona);
  assert.equal(byIccsn.label, `eGK ${persona.iccsn}`);
  const byReader = signer({ reader: stack.readers[0] });
  assert.deepEqual(await byReader.autCertificate(), byPersona);
  // the PIN of the persona whose ICCSN the card has
  const digest = digestOf('by reader');
  assert.ok(bp256VerifyDigest(digest, await byReader.signDigest(digest), parseCertificate(byPersona).publicKey));
  await rejectsWith(signer({}).autCertificate(), 'card-error'); // Jonas, Lena and Anna: which one?
  await rejectsWith(signer({ iccsn: '80276883119930009999', pin: '123456' }).autCertificate(), 'card-missing');
});

test('blocked PIN.CH (Lena Sperber): pin-blocked with 6983, the card is not asked to sign', async () => {
  const s = signer({ persona: LENA });
  await s.autCertificate(); // reading the certificate needs no PIN
  const pso = count(stack.commands, LENA, PSO_CDS);
  const e = await rejectsWith(s.signDigest(digestOf('blocked')), 'pin-blocked', '6983');
  assert.match(e.message, /blocked/);
  assert.equal(count(stack.commands, LENA, PSO_CDS), pso, 'no PSO after the refused VERIFY');
});

test('wrong PIN.CH: pin-wrong with 63C2, the right PIN afterwards signs (and resets the counter)', async () => {
  const wrong = signer({ persona: ANNA, pin: '999999' });
  await rejectsWith(wrong.signDigest(digestOf('wrong')), 'pin-wrong', '63C2');
  const right = signer({ persona: ANNA });
  const digest = digestOf('right');
  const sig = await right.signDigest(digest);
  assert.ok(bp256VerifyDigest(digest, sig, parseCertificate(await right.autCertificate()).publicKey));
  await rejectsWith(wrong.signDigest(digestOf('wrong again')), 'pin-wrong', '63C2'); // counter back at 3
});

test('an HBA in the reader is the wrong card type; an HBA persona is refused at once', async () => {
  await rejectsWith(signer({ reader: stack.readers[2] }).autCertificate(), 'wrong-card-type');
  await rejectsWith(signer({ reader: stack.readers[2], pin: '123456' }).signDigest(digestOf('hba')), 'wrong-card-type');
  assert.equal(count(stack.commands, HBA, PSO_CDS), 0, 'the HBA never signed');
  assert.throws(() => new EgkPcscSigner({ persona: HBA, socket: stack.socket }), TypeError);
});

test('bad input is refused before the card is asked', async () => {
  const s = signer({ persona: JONAS });
  const before = stack.commands.get(JONAS)?.length ?? 0;
  await assert.rejects(s.signDigest(Buffer.alloc(31)), RangeError);
  await assert.rejects(s.signDigest(Buffer.alloc(33)), RangeError);
  await assert.rejects(s.signDigest('not a buffer' as unknown as Buffer), TypeError);
  assert.equal(stack.commands.get(JONAS)?.length ?? 0, before, 'no APDU sent');
  assert.throws(() => new EgkPcscSigner({ pin: '12' }), TypeError);
  assert.throws(() => new EgkPcscSigner({ iccsn: '123' }), TypeError);
  assert.throws(() => new EgkPcscSigner({ persona: 'Nobody Known' }), /Nobody Known/);
});

test('card removed: card-missing; put back: the same signer signs again', async () => {
  const s = signer({ persona: JONAS });
  const cert = parseCertificate(await s.autCertificate());
  await stack.remove(JONAS);
  await rejectsWith(s.signDigest(digestOf('gone')), 'card-missing');
  await rejectsWith(signer({ persona: JONAS }).autCertificate(), 'card-missing');
  await rejectsWith(signer({ reader: stack.readers[0], pin: '123456' }).autCertificate(), 'card-missing');
  await stack.insert(JONAS, 0);
  const digest = digestOf('back');
  assert.ok(bp256VerifyDigest(digest, await s.signDigest(digest), cert.publicKey));
});

test('another eGK put into the reader between certificate and signature: card-error, no signature', async () => {
  const s = signer({ reader: stack.readers[0] });
  await s.autCertificate(); // Jonas Keller's
  await stack.remove(JONAS);
  await stack.insert(MEHMET, 0);
  try {
    const pso = count(stack.commands, MEHMET, PSO_CDS);
    const e = await rejectsWith(s.signDigest(digestOf('swapped')), 'card-error');
    assert.match(e.message, /not the card/);
    assert.equal(count(stack.commands, MEHMET, PSO_CDS), pso);
  } finally {
    await stack.remove(MEHMET);
    await stack.insert(JONAS, 0);
  }
});
