/**
 * The error-code tables of docs/errors.md, generated from the source: every
 * `ENGnnn` the engine (src/engine, src/provider), `FILnnn` the files provider
 * and `FMTnnn` the file formats can raise, with the message the source gives
 * it (`${…}` parts shown as `…`) and the files that raise it.
 *
 *   node --import tsx scripts/error-codes.ts          rewrite docs/errors.md between its markers
 *   node --import tsx scripts/error-codes.ts --check  exit 1 when docs/errors.md is out of date
 *
 * test/engine/error-codes.test.ts runs the check, so a new code cannot land
 * undocumented.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DOC = join(ROOT, 'docs', 'errors.md');

interface Family {
  readonly prefix: string;
  readonly title: string;
  readonly dirs: readonly string[];
}

export const FAMILIES: readonly Family[] = [
  { prefix: 'ENG', title: 'Engine (ENG)', dirs: ['src/engine', 'src/provider'] },
  { prefix: 'FIL', title: 'Files provider (FIL)', dirs: ['src/providers/files'] },
  { prefix: 'FMT', title: 'File formats (FMT)', dirs: ['src/formats'] },
  { prefix: 'SQL', title: 'PostgreSQL and MariaDB providers (SQL0xx)', dirs: ['src/providers/postgres', 'src/providers/mariadb'] },
];

/** What a code means where the source builds its message elsewhere than in the raising call. */
const DESCRIBED: Readonly<Record<string, string>> = {
  ENG006: "A data container failed to connect (the provider's own error); the other containers stay usable and this error is raised where the container is used.",
  ENG512: 'A value does not convert to the type an expression needs, naming the value and the function.',
  ENG999: 'An internal error: please report it, with the statement.',
  FMT020: 'A workbook has no sheets, or no sheet of the given name.',
  SQL020: 'An update or delete on a table without a primary key (rows cannot be addressed one by one).',
};

export interface CodeUse {
  readonly code: string;
  readonly messages: string[];
  readonly files: string[];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(path));
    else if (e.name.endsWith('.ts')) out.push(path);
  }
  return out.sort();
}

/** The string literal starting at `i` (quote char at i), `${…}` shown as `…`; undefined when none starts there. */
function literalAt(text: string, i: number): string | undefined {
  const q = text[i];
  if (q !== "'" && q !== '"' && q !== '`') return undefined;
  let out = '';
  for (let j = i + 1; j < text.length; j++) {
    const ch = text[j];
    if (ch === '\\') {
      out += text[j + 1];
      j++;
    } else if (ch === q) {
      return out;
    } else if (q === '`' && ch === '$' && text[j + 1] === '{') {
      let depth = 0;
      for (j += 1; j < text.length; j++) {
        if (text[j] === '{') depth++;
        else if (text[j] === '}' && --depth === 0) break;
      }
      out += '…';
    } else out += ch;
  }
  return undefined;
}

/** Every code of a family the source raises, with its messages and files. */
export function collect(family: Family): CodeUse[] {
  const re = new RegExp(`(['"\`])(${family.prefix}\\d{3})(:\\s*)?`, 'g');
  const codes = new Map<string, { messages: Set<string>; files: Set<string> }>();
  for (const dir of family.dirs) {
    for (const file of sourceFiles(dir)) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(re)) {
        const code = m[2];
        const entry = codes.get(code) ?? { messages: new Set<string>(), files: new Set<string>() };
        codes.set(code, entry);
        entry.files.add(relative(ROOT, join(ROOT, file)));
        let message: string | undefined;
        const after = m.index + m[0].length;
        if (m[3] !== undefined) {
          // 'ENG150: divisor is equal to zero' — the message is in the same literal.
          message = literalAt(text, m.index)?.replace(/^[A-Z]{3}\d{3}:\s*/, '');
        } else {
          // new SluiceError('ENG020', `Unknown table "…".`): the message is the next argument.
          const rest = /^['"`]\s*,\s*/.exec(text.slice(after, after + 200));
          if (rest) message = literalAt(text, after + rest[0].length);
        }
        if (message) entry.messages.add(message.replace(/\s+/g, ' ').trim());
      }
    }
  }
  return [...codes.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, e]) => ({ code, messages: [...e.messages], files: [...e.files] }));
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function table(family: Family): string {
  const lines = [`### ${family.title}`, '', '| code | message (… stands for the particulars) | raised in |', '| --- | --- | --- |'];
  for (const c of collect(family)) {
    const messages = DESCRIBED[c.code] ?? c.messages.slice(0, 3).map((m) => cell(m)).join('<br>');
    if (!messages) throw new Error(`${c.code}: no message found in the source; describe it in DESCRIBED (scripts/error-codes.ts)`);
    lines.push(`| ${c.code} | ${messages} | ${c.files.map((f) => `\`${f}\``).join(', ')} |`);
  }
  return lines.join('\n');
}

const START = '<!-- error-codes:start (generated by scripts/error-codes.ts; do not edit by hand) -->';
const END = '<!-- error-codes:end -->';

export function generated(): string {
  return `${START}\n\n${FAMILIES.map(table).join('\n\n')}\n\n${END}`;
}

/** docs/errors.md with its generated part brought up to date. */
export function updatedDoc(): { current: string; next: string } {
  const current = readFileSync(DOC, 'utf8');
  const a = current.indexOf(START);
  const b = current.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${DOC} lacks the markers ${START} … ${END}`);
  return { current, next: current.slice(0, a) + generated() + current.slice(b + END.length) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { current, next } = updatedDoc();
  if (process.argv.includes('--check')) {
    if (current !== next) {
      console.error('docs/errors.md is out of date: run node --import tsx scripts/error-codes.ts');
      process.exit(1);
    }
  } else if (current !== next) {
    writeFileSync(DOC, next);
    console.log('docs/errors.md updated');
  }
}
