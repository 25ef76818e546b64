/**
 * Parse-speed benchmark: parses one generated script of 10,000 mixed,
 * realistic statements (queries with joins and aggregates, use, set, DML,
 * create-as-select, synchronize) and reports statements per second (best
 * of three runs: the machine is shared).
 * bench/engine.bench.ts calls benchParse(); run directly it prints the figures:
 *   node --import tsx bench/parse.bench.ts
 */
import { pathToFileURL } from 'node:url';
import { parseScript } from '../src/sql/index.js';

/** A small deterministic PRNG so every run parses the same script. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TABLES = ['exactonlinerest..accounts@eol', 'transactionlines@eol', 'salesinvoices@eol', 'customer_getall@vismanet', 'gltransactions', 'systemdivisions@eol'];
const COLUMNS = ['code', 'name', 'division', 'amountdc', 'date', 'description', 'status', 'glaccountcode', 'financialyear', 'reference'];

/** A script of `count` statements, mixing forms in roughly the proportions seen in real scripts. */
export function generateScript(count: number, seed = 42): string {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const cols = (n: number): string => Array.from({ length: n }, () => pick(COLUMNS)).join(', ');
  const statements: string[] = [];
  for (let i = 0; i < count; i++) {
    const k = r();
    if (k < 0.45) {
      statements.push(
        `select a.${pick(COLUMNS)}, a.${pick(COLUMNS)} number, sum(t.amountdc) total, count(*)\n` +
          `from ${pick(TABLES)} a\njoin ${pick(TABLES)} t on t.division = a.division and t.code = a.code\n` +
          `where a.status in (1, 2, 3) and t.date >= date '2024-01-01' and a.name like 'A%' -- active only\n` +
          `group by a.${pick(COLUMNS)}, a.${pick(COLUMNS)}\nhaving sum(t.amountdc) > ${Math.floor(r() * 1000)}\norder by total desc nulls last\nlimit 100`,
      );
    } else if (k < 0.6) {
      statements.push(
        `select case when ${pick(COLUMNS)} is null then 'none' else upper(substr(${pick(COLUMNS)}, 1, 3)) || '-' || to_char(${pick(COLUMNS)}) end label, ` +
          `nvl(${pick(COLUMNS)}, 0) + ${(r() * 100).toFixed(2)} * 2 from ${pick(TABLES)} where ${pick(COLUMNS)} between 1 and 10 ` +
          `union all select ${cols(2)} from ${pick(TABLES)} where exists (select 1 from ${pick(TABLES)} x where x.code = code)`,
      );
    } else if (k < 0.7) {
      statements.push(`use ${Math.floor(r() * 900000 + 100000)}@eol, ${Math.floor(r() * 900000 + 100000)}@vismanet`);
    } else if (k < 0.75) {
      statements.push(`use select code from systemdivisions@eol where status = 1 /* Active. */ group by customercode`);
    } else if (k < 0.8) {
      statements.push(`set requests-per-second@eol ${Math.floor(r() * 10)}`);
    } else if (k < 0.87) {
      const rows = Array.from({ length: 5 }, (_, j) => `(${i * 5 + j}, 'name ''${j}''', ${(r() * 1000).toFixed(2)}, date '2024-0${1 + (j % 9)}-1${j}')`);
      statements.push(`insert into staging@inmemorystorage (id, name, amount, d) values ${rows.join(', ')}`);
    } else if (k < 0.92) {
      statements.push(`update staging@inmemorystorage set amount = amount * 1.21, name = trim(name) where id = ${i}`);
    } else if (k < 0.96) {
      statements.push(
        `create or replace table exactaccounts@inmemorystorage as\nselect to_char(code) number, name, 'EOL-' || to_char(code) accountreference\nfrom exactonlinerest..accounts@eolnl`,
      );
    } else {
      statements.push(
        `synchronize exactaccounts@inmemorystorage to customer_getall@vismanet\nwith insert or update error after 10 rows\nidentified by accountreference ignore changes to name ignore nulls`,
      );
    }
  }
  // Half separated by ";", half by nothing but the next statement keyword (as in seed 001).
  return statements.map((s, i) => (i % 2 === 0 ? `${s};` : s)).join('\n\n');
}

export async function benchParse(): Promise<{ statements: number; ms: number; perSecond: number }> {
  const count = 10_000;
  const script = generateScript(count);
  // Warm up the JIT on a smaller script first.
  parseScript(generateScript(500, 7));
  // Best of three: the machine is shared, and the slowest runs measure the neighbours.
  let ms = Infinity;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    const parsed = parseScript(script);
    ms = Math.min(ms, performance.now() - started);
    if (parsed.statements.length !== count) throw new Error(`expected ${count} statements, parsed ${parsed.statements.length}`);
  }
  return { statements: count, ms, perSecond: Math.round((count / ms) * 1000) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchParse();
  const size = generateScript(r.statements).length;
  console.log(`parse: ${r.statements} statements (${(size / 1e6).toFixed(1)} MB) in ${r.ms.toFixed(0)} ms`);
  console.log(`parse: ${r.perSecond.toLocaleString('en-US')} statements/s`);
}
