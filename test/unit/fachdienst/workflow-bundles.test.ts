/**
 * All 29 KBV bundles of ../shared/reference/kbv-bundles (only PrescriptionID and authoredOn substituted,
 * signed with a PKI-issued HBA C.HP.QES key) activate; the 12 negative bundles are refused with 400.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { IssuedCertificateWithKey } from '../../../simulators/pki/hierarchy';
import { startFdFixture, type FdFixture } from './helpers';
import {
  activateParameters,
  berlinDay,
  createParameters,
  fhir,
  flowTypeOfBundle,
  kbvBundleFiles,
  negativeBundleFiles,
  outcomeTexts,
  signWith,
  statusOf,
  substituteBundle,
  valueOf, practiceLogin } from './workflow-helpers';

let fx: FdFixture;
let practice: string;
let hba: IssuedCertificateWithKey;

before(async () => {
  fx = await startFdFixture();
  const pki = fx.idpFx.pkiService.pki;
  practice = await practiceLogin(fx);
  hba = pki.issue({ profile: 'C.HP.QES' });
});
after(async () => {
  await fx?.stop();
});

async function createAndActivate(xml: string, flowType: number) {
  const c = await fhir(fx, practice, 'POST', '/Task/$create', createParameters(flowType));
  assert.equal(c.status, 201, c.body);
  const id = /<id value="([^"]*)"/.exec(c.body)?.[1] as string;
  const ac = valueOf(c.body, 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode') as string;
  // A multiple prescription (MVO) carries an Einlösefrist that must not start before authoredOn: its
  // authoredOn stays as written and the signature is dated on that day; every other bundle gets today.
  const original = /<authoredOn value="(\d{4}-\d{2}-\d{2})"/.exec(xml)?.[1];
  const mvo = xml.includes('url="Zeitraum"') && original;
  const day = mvo ? original : berlinDay(fx.fd.clock.now());
  const signingTime = mvo ? new Date(`${original}T10:00:00+02:00`) : fx.fd.clock.now();
  let content: string;
  try {
    content = substituteBundle(xml, id, day);
  } catch {
    content = xml; // negative bundles without a PrescriptionID stay as they are
  }
  const cms = signWith(hba, content, signingTime);
  return fhir(fx, practice, 'POST', `/Task/${id}/$activate`, activateParameters(cms), { 'X-AccessCode': ac });
}

describe('Fachdienst workflow: the 29 KBV bundles activate', () => {
  const files = kbvBundleFiles();
  test('there are 29', () => assert.equal(files.length, 29));
  for (const file of files) {
    test(path.basename(file), async () => {
      const xml = fs.readFileSync(file, 'utf8');
      const r = await createAndActivate(xml, flowTypeOfBundle(xml));
      assert.equal(r.status, 200, r.body);
      assert.equal(statusOf(r.body), 'ready');
    });
  }
});

describe('Fachdienst workflow: the negative bundles are refused with 400', () => {
  const files = negativeBundleFiles();
  test('there are 12', () => assert.equal(files.length, 12));
  for (const file of files) {
    test(path.basename(file), async () => {
      const xml = fs.readFileSync(file, 'utf8');
      let flowType = 160;
      try {
        flowType = flowTypeOfBundle(xml);
      } catch {
        // unparsable: any flow type
      }
      const r = await createAndActivate(xml, flowType);
      assert.equal(r.status, 400, r.body);
      assert.ok(outcomeTexts(r.body)[0], 'a reason is given');
    });
  }
});
