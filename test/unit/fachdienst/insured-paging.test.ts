/**
 * Search arguments and paging of the insured's list endpoints (workflow/paging.ts) without a server:
 * date periods in German local time, production's prefix semantics, _count/__offset checks, links,
 * and the Accept-Language choice of the protocol texts.
 */
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { FhirError } from '../../../simulators/fachdienst/outcome';
import { auditLanguage, auditText } from '../../../simulators/fachdienst/workflow/audit';
import { bundleLinks, matchesDate, parseDateArgument, parsePaging, parseSearchPeriod } from '../../../simulators/fachdienst/workflow/paging';

describe('date search values', () => {
  test('a day is the German day (CET and CEST), a minute and a second are periods, explicit zones are honoured', () => {
    assert.deepEqual(parseSearchPeriod('2025-01-15'), { begin: Date.parse('2025-01-14T23:00:00Z'), end: Date.parse('2025-01-15T23:00:00Z') });
    assert.deepEqual(parseSearchPeriod('2025-07-15'), { begin: Date.parse('2025-07-14T22:00:00Z'), end: Date.parse('2025-07-15T22:00:00Z') });
    assert.deepEqual(parseSearchPeriod('2025-03'), { begin: Date.parse('2025-02-28T23:00:00Z'), end: Date.parse('2025-03-31T22:00:00Z') });
    assert.deepEqual(parseSearchPeriod('2025-01-15T10:20:30Z'), { begin: Date.parse('2025-01-15T10:20:30Z'), end: Date.parse('2025-01-15T10:20:31Z') });
    assert.deepEqual(parseSearchPeriod('2025-01-15T10:20+02:00'), { begin: Date.parse('2025-01-15T08:20:00Z'), end: Date.parse('2025-01-15T08:21:00Z') });
    for (const bad of ['2025-13-01', '2025-01-32', 'yesterday', '2025-01-15T25:00Z', '']) assert.equal(parseSearchPeriod(bad), undefined, bad);
  });

  test('prefixes as production: eq B<=T<E, ne, gt/sa T>=E, ge T>=B, lt/eb T<B, le T<E; comma values are ORed', () => {
    const c = (arg: string) => parseDateArgument('date', arg);
    const inDay = '2025-01-15T12:00:00Z';
    const dayBefore = '2025-01-14T12:00:00Z';
    const dayAfter = '2025-01-16T12:00:00Z';
    assert.ok(matchesDate(c('2025-01-15'), inDay) && !matchesDate(c('eq2025-01-15'), dayAfter));
    assert.ok(matchesDate(c('ne2025-01-15'), dayAfter) && !matchesDate(c('ne2025-01-15'), inDay));
    assert.ok(matchesDate(c('gt2025-01-15'), dayAfter) && !matchesDate(c('gt2025-01-15'), inDay));
    assert.ok(matchesDate(c('sa2025-01-15'), dayAfter));
    assert.ok(matchesDate(c('ge2025-01-15'), inDay) && !matchesDate(c('ge2025-01-15'), dayBefore));
    assert.ok(matchesDate(c('lt2025-01-15'), dayBefore) && !matchesDate(c('lt2025-01-15'), inDay));
    assert.ok(matchesDate(c('eb2025-01-15'), dayBefore));
    assert.ok(matchesDate(c('le2025-01-15'), inDay) && !matchesDate(c('le2025-01-15'), dayAfter));
    assert.ok(matchesDate(c('2025-01-14,2025-01-16'), dayAfter) && !matchesDate(c('2025-01-14,2025-01-16'), inDay));
    assert.ok(!matchesDate(c('ge2025-01-15'), undefined), 'no value never matches');
    assert.throws(() => c('ge2025-99-99'), (e: unknown) => e instanceof FhirError && e.status === 400);
  });
});

describe('paging', () => {
  test('_count default and maximum 50, production texts for bad values', () => {
    assert.deepEqual(parsePaging(new URLSearchParams('')), { count: 50, offset: 0, isSet: false });
    assert.deepEqual(parsePaging(new URLSearchParams('_count=10&__offset=20')), { count: 10, offset: 20, isSet: true });
    assert.equal(parsePaging(new URLSearchParams('_count=51')).count, 50);
    assert.equal(parsePaging(new URLSearchParams('__offset=0')).offset, 0);
    const text = (q: string) => {
      try {
        parsePaging(new URLSearchParams(q));
        return 'accepted';
      } catch (e) {
        return (e as FhirError).message;
      }
    };
    assert.equal(text('_count=0'), '_count zero is not supported');
    assert.equal(text('_count=-3'), '_count can not be negative');
    assert.equal(text('_count=x'), 'invalid numeric format in _count');
    assert.equal(text('__offset=1.5'), 'trailing characters are not permitted in a numerical argument: __offset');
    assert.equal(text('_count=99999999999'), '_count value out of range');
  });

  test('links: self/prev/next/first/last; last page offset; no last without total', () => {
    const rel = (ls: Array<{ relation: string; url: string }>) => Object.fromEntries(ls.map((l) => [l.relation, l.url]));
    const mid = rel(bundleLinks({ base: 'https://fd', path: '/Task', searchArgs: [['status', 'ready']], paging: { count: 10, offset: 10, isSet: true }, total: 25 }));
    assert.deepEqual(mid, {
      self: 'https://fd/Task?status=ready&_count=10&__offset=10',
      prev: 'https://fd/Task?status=ready&_count=10&__offset=0',
      next: 'https://fd/Task?status=ready&_count=10&__offset=20',
      first: 'https://fd/Task?status=ready&_count=10&__offset=0',
      last: 'https://fd/Task?status=ready&_count=10&__offset=20',
    });
    const exact = rel(bundleLinks({ base: 'https://fd', path: '/Task', searchArgs: [], paging: { count: 10, offset: 0, isSet: true }, total: 20 }));
    assert.equal(exact.last, 'https://fd/Task?_count=10&__offset=10');
    assert.equal(exact.next, 'https://fd/Task?_count=10&__offset=10');
    const plain = rel(bundleLinks({ base: 'https://fd', path: '/Task', searchArgs: [], paging: { count: 50, offset: 0, isSet: false }, total: 0 }));
    assert.deepEqual(Object.keys(plain), ['self', 'first']);
    assert.equal(plain.self, 'https://fd/Task');
    const audit = rel(bundleLinks({ base: 'https://fd', path: '/AuditEvent', searchArgs: [], paging: { count: 5, offset: 0, isSet: true }, hasNext: true }));
    assert.deepEqual(Object.keys(audit).sort(), ['first', 'next', 'self']);
  });
});

describe('protocol language', () => {
  test('Accept-Language: first entry de or en, everything else German; production wording', () => {
    assert.equal(auditLanguage(undefined), 'de');
    assert.equal(auditLanguage('en-GB,en;q=0.8'), 'en');
    assert.equal(auditLanguage('fr-FR, en;q=0.5'), 'de');
    assert.equal(auditLanguage('DE'), 'de');
    assert.equal(auditText('POST_Task_accept', 'de', 'Apotheke am Markt', '160.000.000.000.001.05'), 'Apotheke am Markt hat das Rezept mit der ID 160.000.000.000.001.05 angenommen.');
    assert.equal(auditText('GET_Task_id_insurant', 'en', 'Jonas Keller', '160.000.000.000.001.05'), 'Jonas Keller downloaded a prescription 160.000.000.000.001.05.');
  });
});
