// Cucumber configuration of the harness (CommonJS; loaded by `ti-harness test`
// as `cucumber.js --config cucumber.js [options]`, or by `npx cucumber-js`).
//
// Profiles:  default   summary on stdout + all report files (below)
//            parallel  the same with two worker processes (`--profile parallel`)
//            pretty    every step on stdout, for writing a feature (`--profile pretty`)
//
// Output (all under the git-ignored reports/out/):
//   cucumber/messages.ndjson   Cucumber messages: input of the traceability report
//   cucumber/report.json       Cucumber JSON (for other tools)
//   cucumber/report.html       Cucumber's own HTML report
//   allure-results/            Allure results (allure-cucumberjs): `ti-harness report`
//   results/verify-<pid>.ndjson  verify() records (written by steps/verify.ts, one file per worker)
//
// Tags → Allure (docs/writing-features.md):
//   @AFO-ID:A_x       label "AFO-ID"; link of type "requirement", name A_x, URL → the
//                     traceability report's anchor (TI_TRACE_URL, default ../trace/index.html#A_x,
//                     i.e. relative to reports/out/allure/index.html). The links are added at
//                     runtime by steps/hooks.ts (tagged ids) and steps/verify.ts (verified ids),
//                     because tag-derived links of allure-cucumberjs carry no name.
//   @UC:UC_2.1        label "UC"; the hooks also set epic "UC_2.1 <name>" (Behaviors tab)
//   @PRODUKT:…        label "PRODUKT"
//   @Hauptdarsteller:… label "Hauptdarsteller"
//   @TCID:…           label "TCID"; the hooks set it as Allure testCaseId (stable history)
//   @TESTFALL:…       label "TESTFALL"
'use strict';

const TRACE_URL = process.env.TI_TRACE_URL || '../trace/index.html';

const tagLabel = (key, name = key) => ({ name, pattern: [new RegExp(`^@${key}:`)] });

const allureOptions = {
  resultsDir: 'reports/out/allure-results',
  labels: [
    tagLabel('AFO-ID'),
    tagLabel('UC'),
    tagLabel('PRODUKT'),
    tagLabel('Hauptdarsteller'),
    tagLabel('TCID'),
    tagLabel('TESTFALL'),
  ],
  links: {
    // No tag pattern: the named links come from the runtime API (see above).
    requirement: {
      pattern: [],
      urlTemplate: (id) => `${TRACE_URL}#${encodeURIComponent(id)}`,
      nameTemplate: (id) => id,
    },
  },
  categories: require('./reports/allure/categories.json'),
};

const common = {
  requireModule: ['ts-node/register/transpile-only'],
  require: ['steps/**/*.ts'],
  // ti-harness test sets TI_CUCUMBER_CLI_PATHS=1 when the user names features: they replace the default.
  paths: process.env.TI_CUCUMBER_CLI_PATHS === '1' ? [] : ['features/**/*.feature'],
  language: 'de',
  format: [
    'message:reports/out/cucumber/messages.ndjson',
    'json:reports/out/cucumber/report.json',
    'html:reports/out/cucumber/report.html',
    ['allure-cucumberjs/reporter', 'reports/out/cucumber/allure-formatter.log'],
  ],
  formatOptions: { ...allureOptions, snippetInterface: 'async-await', printAttachments: false },
};

module.exports = {
  default: { ...common, format: ['summary', ...common.format] },
  parallel: { ...common, format: ['summary', ...common.format], parallel: 2 },
  pretty: { ...common, format: ['pretty', ...common.format] },
};
