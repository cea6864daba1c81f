/**
 * Parser units on small synthetic inputs: headings, blocks, keywords, products,
 * use-case tables, PoPP prose.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildSeedCatalogue,
  parsePoppScenarios,
  parseSeed,
  parseUseCaseTable,
} from '../../../reports/catalogue/parse';
import { CatalogueParseError, findKeywords, normativeSentences, obligationsOf, splitSentences } from '../../../reports/catalogue/text';
import { productsFor } from '../../../reports/catalogue/products';

const MINI = [
  'Titelseite',
  '1.0.0 30.06.2020 freigegeben gematik',
  '1 Einordnung',
  '1.1 Methodik',
  '<AFO-ID> - <Titel der Afo>',
  'Text',
  '[<=]',
  '2 Systemüberblick',
  '2.1 Produkttyp E-Rezept-Fachdienst',
  'A_10001 - Erste Anforderung',
  '',
  'Der E-Rezept-Fachdienst MUSS\u00A0etwas   tun.',
  'Ausgestellt Eingelöst',
  '4.791.000  3.501.000',
  '[<=]',
  '5 Tage später',
  '2.1.1 Unterkapitel',
  'A_10002 - Zweite Anforderung',
  'Der IDP DARF NICHT mehr eintragen. [<=]',
  '3 Ende',
].join('\n');

test('parseSeed: blocks end at [<=], headings only in valid succession, stray markers recorded', () => {
  const s = parseSeed(MINI);
  assert.equal(s.startLines, 2);
  assert.deepEqual(
    s.headings.map((h) => h.number),
    ['1', '1.1', '2', '2.1', '2.1.1', '3'],
    '"1.0.0 …", "4.791.000 …" and "5 Tage …" are no headings',
  );
  assert.deepEqual(
    parseSeed('1 A\n1.5 Sprung\n1.1 B\n').headings.map((h) => h.number),
    ['1', '1.1'],
    'a heading that skips a number is not accepted',
  );
  const [a, b] = s.requirements;
  assert.equal(a.id, 'A_10001');
  assert.equal(a.title, 'Erste Anforderung');
  assert.deepEqual(a.chapter, { number: '2.1', title: 'Produkttyp E-Rezept-Fachdienst' });
  assert.equal(a.sourceLine, 10);
  assert.equal(a.text, 'Der E-Rezept-Fachdienst MUSS etwas tun.\nAusgestellt Eingelöst\n4.791.000 3.501.000');
  assert.equal(b.text, 'Der IDP DARF NICHT mehr eintragen.');
  assert.equal(b.chapter.number, '2.1.1');
  assert.deepEqual(s.strayMarkers, [{ line: 7, chapter: { number: '1.1', title: 'Methodik' } }]);
});

test('parseSeed: an unclosed requirement is an error', () => {
  assert.throws(() => parseSeed('1 K\nA_10001 - T\nDer IDP MUSS x.\n'), CatalogueParseError);
  assert.throws(() => parseSeed('1 K\nA_10001 - T\nDer IDP MUSS x.\nA_10002 - U\nx [<=]\n'), /requirement starts before A_10001/);
  assert.throws(() => parseSeed('A_10001 - T\nx [<=]\n'), /before the first numbered heading/);
});

test('findKeywords: upper case only, negations in one sentence, plurals kept literally', () => {
  assert.deepEqual(findKeywords('Der IDP MUSS x. Die Dienste MÜSSEN y.'), ['MUSS', 'MÜSSEN']);
  assert.deepEqual(findKeywords('Das PS DARF ein E-Rezept NICHT einstellen.'), ['DARF NICHT']);
  assert.deepEqual(findKeywords('Die Anbieter DÜRFEN NICHT x.'), ['DÜRFEN NICHT']);
  assert.deepEqual(findKeywords('Der Dienst SOLL x NICHT tun.'), ['SOLL NICHT']);
  assert.deepEqual(findKeywords('Der Dienst SOLL x tun. Er ist NICHT y.'), ['SOLL'], 'NICHT in another sentence');
  assert.deepEqual(findKeywords('Das FdV KANN x. Die Anbieter KÖNNEN y.'), ['KANN', 'KÖNNEN']);
  assert.deepEqual(findKeywords('Der Dienst muss x, soll y und kann z.'), []);
  assert.deepEqual(findKeywords('MUSS-Anforderung und MUSST'), [], 'no keyword inside words');
  assert.throws(() => findKeywords('Der Dienst DARF x tun.'), /without NICHT/);
});

test('obligationsOf folds plurals and orders by level', () => {
  assert.deepEqual(obligationsOf(['KÖNNEN', 'MÜSSEN', 'DARF NICHT']), ['MUSS', 'DARF NICHT', 'KANN']);
  assert.deepEqual(obligationsOf(['SOLLEN NICHT', 'SOLL']), ['SOLL', 'SOLL NICHT']);
});

test('splitSentences keeps abbreviations inside a sentence', () => {
  assert.deepEqual(splitSentences('Er MUSS z. B. Sortierung anbieten. Das FdV KANN x.'), [
    'Er MUSS z. B. Sortierung anbieten.',
    'Das FdV KANN x.',
  ]);
  assert.deepEqual(normativeSentences('Falls der IDP x übergibt, MUSS das Modul y.')[0].subject, 'Falls der IDP x übergibt');
});

test('productsFor: subjects, provider form, collective subjects and interfaces', () => {
  const p = (text: string, chapter = '4.1', extra: Partial<Parameters<typeof productsFor>[0]> = {}) =>
    productsFor({ id: 'A_1', chapter, text, useCaseNumber: null, useCaseText: null, ...extra });
  assert.deepEqual(p('Der E-Rezept-Fachdienst MUSS x.'), ['E-Rezept-Fachdienst']);
  assert.deepEqual(p('Der Anbieter des IDP MUSS x.'), ['Anbieter IDP']);
  assert.deepEqual(p('Die Anbieter der Produkttypen E-Rezept-Fachdienst und Identity Provider MÜSSEN x.'), [
    'Anbieter E-Rezept-Fachdienst',
    'Anbieter IDP',
  ]);
  assert.deepEqual(p('Das Primärsystem MUSS x.'), ['PS verordnend', 'PS abgebend']);
  assert.deepEqual(p('Das Primärsystem der abgebenden Leistungserbringerinstitution MUSS x.'), ['PS abgebend']);
  assert.deepEqual(p('Die Dienste der Fachanwendung E-Rezept MÜSSEN x.'), ['E-Rezept-Fachdienst', 'IDP', 'VZD']);
  assert.deepEqual(
    p('Das Authentisierungsmodul MUSS signieren. Falls der IDP eine Challenge übergibt, MUSS das Authentisierungsmodul antworten.'),
    ['Authentisierungsmodul'],
  );
  assert.deepEqual(
    p('Die Schnittstelle MUSS die logische Operation "X" implementieren.\nMit dieser Operation kann eine abgebende LEI y.', '4.3.1'),
    ['E-Rezept-Fachdienst', 'PS abgebend'],
  );
  assert.deepEqual(
    p('Die Schnittstelle MUSS die logische Operation "X" implementieren.\nMit dieser Operation kann das Authentisierungsmodul y.', '4.3.4'),
    ['IDP', 'Authentisierungsmodul'],
  );
  assert.deepEqual(
    p('Alle am Anwendungsfall "X" beteiligten Produkttypen und Komponenten MÜSSEN y.', '3.6.4', {
      useCaseNumber: '4.1',
      useCaseText: 'Das PS ruft das E-Rezept vom E-Rezept-Fachdienst ab und prüft die QES mittels Konnektor.',
    }),
    ['E-Rezept-Fachdienst', 'PS abgebend', 'Konnektor'],
  );
  assert.throws(() => p('Die Welt MUSS x.'), /no product recognised/);
});

test('parseUseCaseTable reads name, bullets, description and postconditions', () => {
  const body = [
    'Alle am Anwendungsfall "X" beteiligten Produkttypen und Komponenten MÜSSEN y.',
    '',
    'Name UC 9.1 - Testfall ',
    'Vorbedingung',
    '• Erste Bedingung.',
    '• Zweite Bedingung.',
    'Kurzbeschreibung',
    '(Außenansicht)',
    'Schritt eins.',
    '',
    'Schritt zwei.',
    'Nachbedingung Ergebnis eins.',
    'Ergebnis zwei.',
    '',
  ].map((text, i) => ({ text, line: i + 1 }));
  assert.deepEqual(parseUseCaseTable(body), {
    number: '9.1',
    name: 'Testfall',
    preconditions: ['Erste Bedingung.', 'Zweite Bedingung.'],
    description: 'Schritt eins.\nSchritt zwei.',
    postconditions: ['Ergebnis eins.', 'Ergebnis zwei.'],
    line: 3,
  });
  const none = body.map((b) => (b.text === '• Erste Bedingung.' ? { ...b, text: '• keine' } : b)).filter((b) => b.text !== '• Zweite Bedingung.');
  assert.deepEqual(parseUseCaseTable(none)?.preconditions, []);
  assert.equal(parseUseCaseTable(body.slice(0, 2)), null);
});

test('buildSeedCatalogue links use cases by name and by table', () => {
  const seed = [
    '1 Einordnung',
    '2 Systemüberblick',
    '3 Anwendungsfälle',
    '3.1 Fall',
    'A_10001 - Anwendungsfall "Rezept holen"',
    'Alle am Anwendungsfall "Rezept holen" beteiligten Produkttypen und Komponenten MÜSSEN y.',
    'Name UC 4.1 - Rezept holen',
    'Vorbedingung',
    '• keine',
    'Kurzbeschreibung (Außensicht)',
    'Das PS ruft beim E-Rezept-Fachdienst ab.',
    'Nachbedingung Fertig.',
    '[<=]',
    '4 Schnittstellen',
    '4.1 Produkttypen',
    '4.2 Weitere',
    '4.3 Schnittstelle',
    '4.3.1 Ressource',
    'A_10002 - Logische Operation "Rezept holen"',
    'Die Schnittstelle MUSS die logische Operation "Rezept holen" implementieren.',
    'Mit dieser Operation kann eine abgebende LEI x.',
    '[<=]',
  ].join('\n');
  const c = buildSeedCatalogue(seed, 'mini.txt');
  assert.deepEqual(c.useCases.map((u) => [u.id, u.definedBy, u.preconditions.length]), [['UC_4.1', 'A_10001', 0]]);
  assert.deepEqual(c.requirements.map((r) => [r.id, r.useCase, r.useCaseBasis]), [
    ['A_10001', 'UC_4.1', 'defines'],
    ['A_10002', 'UC_4.1', 'names'],
  ]);
  assert.deepEqual(c.requirements[0].products, ['E-Rezept-Fachdienst', 'PS abgebend']);
});

test('parsePoppScenarios reads heading, intro and numbered steps', () => {
  const md = [
    '# Versorgungsszenarien',
    '## Szenario A – eGK (UC_PoPP_1c)',
    'Der Versicherte',
    'erscheint.',
    '1. Erster',
    '   Schritt.',
    '2. Zweiter Schritt.',
    '## Anderes',
    'x',
  ].join('\n');
  assert.deepEqual(parsePoppScenarios(md), [
    { id: 'UC_PoPP_1c', name: 'Szenario A – eGK', intro: 'Der Versicherte erscheint.', steps: ['Erster Schritt.', 'Zweiter Schritt.'], line: 2 },
  ]);
});
