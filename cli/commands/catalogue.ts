import { parseArgs, UsageError } from '../args';
import { loadCatalogue } from '../../reports/catalogue/catalogue';
import { catalogueToJson, catalogueToMarkdown } from '../../reports/catalogue/format';

const HELP = `Usage: ti-harness catalogue [--json | --md]

Prints the requirement catalogue of gemSysL_eRp 1.1.0: the 206 requirements
(id, title, chapter, obligations, product types, use case, classification) and
the 23 use cases (21 E-Rezept, 2 PoPP). Default output is a short overview.

Options:
  --json   machine-readable, the full catalogue
  --md     Markdown tables per chapter
`;

export const command = {
  summary: 'print the requirement catalogue',
  async run(argv: string[]): Promise<number> {
    const { flags } = parseArgs(argv, { help: false, json: false, md: false });
    if (flags.has('help')) {
      process.stdout.write(HELP);
      return 0;
    }
    if (flags.has('json') && flags.has('md')) throw new UsageError('choose one of --json and --md');
    const catalogue = loadCatalogue();
    if (flags.has('json')) {
      process.stdout.write(`${JSON.stringify(catalogueToJson(catalogue), null, 2)}\n`);
    } else if (flags.has('md')) {
      process.stdout.write(catalogueToMarkdown(catalogue));
    } else {
      const reqs = catalogue.requirements;
      const documented = reqs.filter((r) => r.classification === 'documented').length;
      const lines = [
        `Requirement catalogue: ${reqs.length} requirements, ${catalogue.useCases.length} use cases, ${catalogue.infrastructure.length} infrastructure checks`,
        `  executable: ${reqs.length - documented}   documented: ${documented}`,
        '',
        'Use cases:',
        ...catalogue.useCases.map((u) => `  ${u.id.padEnd(12)} ${u.name}`),
        '',
        'Full catalogue: ti-harness catalogue --md   (or --json)',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return 0;
  },
};
