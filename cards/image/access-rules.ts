// Parser for the access-rule notation of gematik card images, e.g.
//
//   CB{ [ACTIVATED,1,{ ({00||b0||??||??},ALW), ({00||2a||9e||9a},OR{PWD(02),AND{PWD(01),AUTCHAT(…)}}) }],
//       [DEACTIVATED,??,{ … }] },
//   CL{ … }
//
// CB = contact-based interface, CL = contactless; each holds rule lists per
// life-cycle state and security environment; a rule is a list of command
// headers CLA||INS||P1||P2 (?? = any) and a condition. Conditions:
// ALW, NEV, PWD(ref), SMMAC(x), SMCMDENC, SMRSPENC, AUT(x), AUTCHAT(x), AND{…}, OR{…}.

import type { AccessCondition, AccessRule, CommandPattern } from '../os/model';

export type CardInterface = 'contact' | 'contactless';

export class AccessRuleSyntaxError extends Error {
  override name = 'AccessRuleSyntaxError';
}

interface SeRules {
  lifeCycle: string;
  se: number | undefined;
  rules: AccessRule[];
}

type ParsedRules = Record<'CB' | 'CL', SeRules[]>;

class Reader {
  private i = 0;
  constructor(private readonly s: string) {}

  fail(msg: string): never {
    throw new AccessRuleSyntaxError(`${msg} at position ${this.i} of "${this.s.slice(0, 80)}…"`);
  }

  peek(): string {
    return this.s[this.i] ?? '';
  }

  atEnd(): boolean {
    return this.i >= this.s.length;
  }

  eat(token: string): boolean {
    if (this.s.startsWith(token, this.i)) {
      this.i += token.length;
      return true;
    }
    return false;
  }

  expect(token: string): void {
    if (!this.eat(token)) this.fail(`expected "${token}"`);
  }

  /** Characters up to (not including) one of the stop characters. */
  until(stops: string): string {
    const start = this.i;
    while (this.i < this.s.length && !stops.includes(this.s[this.i])) this.i++;
    return this.s.slice(start, this.i);
  }

  word(): string {
    const start = this.i;
    while (this.i < this.s.length && /[A-Za-z]/.test(this.s[this.i])) this.i++;
    if (start === this.i) this.fail('expected a keyword');
    return this.s.slice(start, this.i);
  }
}

function hexByteOrWildcard(r: Reader, text: string): number | undefined {
  if (text === '??') return undefined;
  if (!/^[0-9a-fA-F]{2}$/.test(text)) r.fail(`bad header byte "${text}"`);
  return parseInt(text, 16);
}

function parsePattern(r: Reader): CommandPattern {
  const parts = r.until(',}').split('||');
  if (parts.length !== 4) r.fail('a command header needs CLA||INS||P1||P2');
  const [cla, ins, p1, p2] = parts.map((p) => hexByteOrWildcard(r, p));
  if (ins === undefined) r.fail('INS must not be a wildcard');
  return { cla, ins: ins as number, p1, p2 };
}

function parseCondition(r: Reader): AccessCondition {
  const kw = r.word();
  switch (kw) {
    case 'ALW':
      return { kind: 'always' };
    case 'NEV':
      return { kind: 'never' };
    case 'AND':
    case 'OR': {
      r.expect('{');
      const of: AccessCondition[] = [parseCondition(r)];
      while (r.eat(',')) of.push(parseCondition(r));
      r.expect('}');
      return { kind: kw === 'AND' ? 'and' : 'or', of };
    }
    case 'PWD': {
      r.expect('(');
      const ref = r.until(')');
      r.expect(')');
      if (!/^[0-9a-fA-F]{2}$/.test(ref)) r.fail(`bad password reference "${ref}"`);
      return { kind: 'pin', pwdRef: parseInt(ref, 16) };
    }
    case 'SMMAC':
    case 'AUT':
    case 'AUTCHAT': {
      r.expect('(');
      const arg = r.until(')');
      r.expect(')');
      return { kind: 'sm', detail: `${kw}(${arg})` };
    }
    case 'SMCMDENC':
    case 'SMRSPENC':
      return { kind: 'sm', detail: kw };
    default:
      return r.fail(`unknown condition "${kw}"`);
  }
}

function parseRule(r: Reader): AccessRule {
  r.expect('(');
  r.expect('{');
  const commands: CommandPattern[] = [parsePattern(r)];
  while (r.eat(',')) commands.push(parsePattern(r));
  r.expect('}');
  r.expect(',');
  const condition = parseCondition(r);
  r.expect(')');
  return { commands, condition };
}

function parseSeRules(r: Reader): SeRules {
  r.expect('[');
  const lifeCycle = r.until(',');
  r.expect(',');
  const seText = r.until(',');
  r.expect(',');
  r.expect('{');
  const rules: AccessRule[] = [];
  if (!r.eat('}')) {
    rules.push(parseRule(r));
    while (r.eat(',')) rules.push(parseRule(r));
    r.expect('}');
  }
  r.expect(']');
  const se = seText === '??' ? undefined : Number.parseInt(seText, 16);
  return { lifeCycle, se, rules };
}

/** Parse the whole attribute value into rule lists per interface. */
export function parseAccessRuleText(text: string): ParsedRules {
  const r = new Reader(text.replace(/\s+/g, ''));
  const out: ParsedRules = { CB: [], CL: [] };
  while (!r.atEnd()) {
    const iface = r.word();
    if (iface !== 'CB' && iface !== 'CL') r.fail(`unknown interface "${iface}"`);
    r.expect('{');
    const list: SeRules[] = [];
    if (!r.eat('}')) {
      list.push(parseSeRules(r));
      while (r.eat(',')) list.push(parseSeRules(r));
      r.expect('}');
    }
    out[iface as 'CB' | 'CL'].push(...list);
    if (!r.eat(',') && !r.atEnd()) r.fail('expected "," between interfaces');
  }
  return out;
}

/**
 * The access rules that apply on one interface in the ACTIVATED life-cycle
 * state and security environment #1 (the only one the card OS models).
 */
export function accessRulesFor(text: string | undefined, iface: CardInterface): AccessRule[] {
  if (text === undefined || text.trim() === '') return [];
  const parsed = parseAccessRuleText(text);
  const list = parsed[iface === 'contact' ? 'CB' : 'CL'];
  const entry = list.find((e) => e.lifeCycle === 'ACTIVATED' && (e.se === 1 || e.se === undefined));
  return entry ? entry.rules : [];
}
