/**
 * Generated SQL with thousands of terms (`a = 1 or a = 2 or …`, long sums)
 * runs end to end over inmemorystorage with correct results, pushes down as
 * one flat filter, and what is really too deep fails with a located ENG008
 * instead of an internal stack overflow.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { balanceChains, CHAIN_LIMIT, chainOperands } from '../../src/engine/chains.js';
import { Binder, splitConjuncts } from '../../src/engine/binder.js';
import { toPredicates } from '../../src/engine/planner.js';
import type { Predicate } from '../../src/provider/types.js';
import type { Expr, QueryStatement } from '../../src/sql/ast.js';
import { parseExpression, parseStatement, printExpr } from '../../src/sql/index.js';
import { SluiceError } from '../../src/util/errors.js';
import { fakeProvider, rows, runAll } from './helpers.js';

const terms = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i + 1));

function depth(e: Expr): number {
  // Iterative, so measuring a deep tree cannot itself overflow.
  let max = 0;
  const stack: [Expr, number][] = [[e, 1]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    max = Math.max(max, d);
    if (x.kind === 'Binary') stack.push([x.left, d + 1], [x.right, d + 1]);
  }
  return max;
}

describe('long generated expressions', () => {
  let s: Session;
  before(async () => {
    s = await openSession({ settingsPath: undefined, containers: [] });
    await runAll(
      s,
      `create table deep_nums@inmemorystorage (a integer, b varchar(10));
       insert into deep_nums@inmemorystorage values (1, 'x'), (2, 'y'), (2999, 'x'), (5000, 'z'), (19999, 'x'), (30000, 'w'), (null, 'n')`,
    );
  });
  after(async () => {
    await s.close();
  });

  for (const n of [3000, 20000]) {
    it(`a ${n}-term OR chain selects the right rows`, async () => {
      const where = terms(n, (i) => `a = ${i}`).join(' or ');
      const expected = [1, 2, 2999, 5000, 19999].filter((x) => x <= n).map((x) => [x]);
      assert.deepEqual(await rows(s, `select a from deep_nums where ${where} order by a`), expected);
    });

    it(`a ${n}-term AND chain selects the right rows`, async () => {
      const where = terms(n, (i) => `a <> ${i * 2}`).join(' and ');
      const expected = [1, 2999, 5000, 19999, 30000].filter((x) => x % 2 === 1 || x > 2 * n).map((x) => [x]);
      assert.deepEqual(await rows(s, `select a from deep_nums where ${where} order by a`), expected);
    });
  }

  it('a 3,000-term OR chain of mixed shapes selects the right rows', async () => {
    const where = terms(1000, (i) => `a + 0 = ${i} or b = 'q${i}' or a between ${i * 10} and ${i * 10 + 1}`).join(' or ');
    assert.deepEqual(await rows(s, `select a from deep_nums where ${where} order by a`), [[1], [2], [5000]]);
  });

  it('a 3,000-term sum computes', async () => {
    const sum = terms(3000, () => 'a').join(' + ');
    assert.deepEqual(await rows(s, `select ${sum} total from deep_nums where a <= 2 order by a`), [[3000], [6000]]);
  });

  it('a 20,000-term sum computes', async () => {
    const sum = terms(20000, () => 'a').join(' + ');
    assert.deepEqual(await rows(s, `select ${sum} total from deep_nums where a <= 2 order by a`), [[20000], [40000]]);
  });

  it('a 2,000-term concatenation computes, NULL as the empty string and an empty result as NULL', async () => {
    const concat = terms(2000, (i) => (i % 3 === 0 ? 'null' : i % 2 === 0 ? "''" : 'b')).join(' || ');
    const expected = terms(2000, (i) => (i % 3 === 0 || i % 2 === 0 ? '' : 'x')).join('');
    assert.deepEqual(await rows(s, `select ${concat} c from deep_nums where a = 1`), [[expected]]);
    const empty = terms(2000, (i) => (i % 2 === 0 ? 'null' : "''")).join(' || ');
    assert.deepEqual(await rows(s, `select ${empty} c from deep_nums where a = 1`), [[null]]);
  });

  it('a DuckDB error in a statement with a 20,000-term OR chain is our located error, not an internal one', async () => {
    const where = terms(20000, (i) => `a = ${i}`).join(' or ');
    await assert.rejects(runAll(s, `select cast(b as integer) from deep_nums where ${where}`), (e: unknown) => {
      assert.ok(e instanceof SluiceError, String(e));
      assert.notEqual(e.code, 'ENG999', e.message);
      assert.ok(e.details.location, e.format());
      return true;
    });
  });

  it('a 20,000-term chain of - (not regrouped) fails with a located ENG008, not an internal error', async () => {
    const chain = terms(20000, () => 'a').join(' - ');
    await assert.rejects(runAll(s, `select 1 from deep_nums;\nselect ${chain} from deep_nums`), (e: unknown) => {
      assert.ok(e instanceof SluiceError);
      assert.equal(e.code, 'ENG008');
      assert.equal(e.details.location?.line, 2);
      assert.match(e.format(), /nested too deeply/);
      return true;
    });
  });
});

describe('balancing chains', () => {
  it('leaves short chains exactly as parsed', () => {
    const st = parseStatement(`select * from t where ${terms(CHAIN_LIMIT, (i) => `a = ${i}`).join(' or ')}`);
    assert.equal(balanceChains(st), st);
  });

  it('balances a long chain, keeping operand order, and merges one column\'s equalities into IN', () => {
    const e = parseExpression(terms(20000, (i) => `a + ${i} > b`).join(' or '));
    const b = balanceChains({ e }).e;
    assert.ok(depth(b) <= 15 + 3, `depth ${depth(b)}`); // 15 levels of or over `a + i > b`
    const flat = (x: Expr): string[] => (x.kind === 'Binary' && x.op === 'or' ? [...flat(x.left), ...flat(x.right)] : [printExpr(x)]);
    assert.deepEqual(flat(b), terms(20000, (i) => `a + ${i} > b`));

    const list = balanceChains({ e: parseExpression(`${terms(100, (i) => `t.a = ${i}`).join(' or ')} or b = 1 or 7 = t.a`) }).e;
    assert.equal(printExpr(list), `t.a in (${terms(100, String).join(', ')}, 7) or b = 1`);
    const notIn = balanceChains({ e: parseExpression(terms(100, (i) => `a <> '${i}'`).join(' and ')) }).e;
    assert.equal(printExpr(notIn), `a not in (${terms(100, (i) => `'${i}'`).join(', ')})`);
    const concat = balanceChains({ e: parseExpression(terms(20000, (i) => `'${i}'`).join(' || ')) }).e;
    assert.ok(depth(concat) <= 16, `depth ${depth(concat)}`);
    // Non-associative operators keep their shape.
    const minus = parseExpression(terms(100, String).join(' - '));
    assert.equal(balanceChains({ e: minus }).e, minus);
  });

  it('binds a 20,000-deep left chain without balancing, and splits conjuncts without recursion', () => {
    const st = parseStatement(`select 1 from dual where ${terms(20000, (i) => `${i} = ${i}`).join(' and ')}`) as QueryStatement;
    new Binder([]).bindQuery(st.query);
    const where = st.query.body.kind === 'Select' ? st.query.body.where! : undefined;
    assert.equal(splitConjuncts(where!).length, 20000);
    assert.equal(chainOperands(where!, 'and').length, 20000);
  });

  it('pushes a long OR down as one flat or of compares', async () => {
    const fp = fakeProvider();
    const s = await openSession({ providers: [fp.provider], containers: [{ alias: 'eol', provider: 'Fake', options: {} }] });
    try {
      const where = terms(3000, (i) => `amount = ${i} or status = 's${i}'`).join(' or ');
      const r = await rows(s, `select orderid from orders@eol where division = 101 and (${where}) order by orderid`);
      assert.deepEqual(r, Array.from({ length: 10 }, (_, i) => [10100 + i]));
      const scan = fp.containers[0].log.scans[0];
      const or = scan.request.conjuncts.find((p) => p.kind === 'or') as Extract<Predicate, { kind: 'or' }>;
      assert.ok(or, JSON.stringify(scan.request.conjuncts).slice(0, 200));
      assert.deepEqual(or.predicates.map((p) => p.kind).sort(), ['in', 'in']);
    } finally {
      await s.close();
    }
  });

  it('toPredicates flattens nested or', () => {
    const ref = { alias: 't', table: { columns: [{ name: 'a', type: 'integer' }] } } as unknown as Parameters<typeof toPredicates>[1];
    const p = toPredicates(parseExpression('(t.a = 1 or t.a = 2) or (t.a = 3 or t.a = 4)'), ref, [ref]);
    assert.equal(p?.length, 1);
    assert.equal(p?.[0].kind === 'or' ? p[0].predicates.length : 0, 4);
  });
});
