/**
 * Golden tests for queries and expressions: precedence, set operations,
 * joins, ordering, limits, windows, literals and Oracle-flavoured functions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpression, parseStatement } from '../../src/sql/index.js';
import { bin, col, expr, num, query, select, str, strip } from './helpers.js';

test('operator precedence: OR < AND < NOT < comparison < || < + - < * / % < unary', () => {
  assert.deepEqual(expr('a or b and c'), bin('or', col('a'), bin('and', col('b'), col('c'))));
  assert.deepEqual(expr('not a = 1 and b'), bin('and', { kind: 'Unary', op: 'not', operand: bin('=', col('a'), num('1')) }, col('b')));
  assert.deepEqual(expr("a || 'x' = b"), bin('=', bin('||', col('a'), str('x')), col('b')));
  assert.deepEqual(expr('a + b || c'), bin('||', bin('+', col('a'), col('b')), col('c')));
  assert.deepEqual(expr('a + b * c'), bin('+', col('a'), bin('*', col('b'), col('c'))));
  assert.deepEqual(expr('a - b - c'), bin('-', bin('-', col('a'), col('b')), col('c')));
  assert.deepEqual(expr('a / b % c'), bin('%', bin('/', col('a'), col('b')), col('c')));
  assert.deepEqual(expr('-a * b'), bin('*', { kind: 'Unary', op: '-', operand: col('a') }, col('b')));
  assert.deepEqual(expr('(a + b) * c'), bin('*', bin('+', col('a'), col('b')), col('c')));
});

test('!= is normalised to <>', () => {
  assert.deepEqual(expr('a != 1'), expr('a <> 1'));
  assert.deepEqual(expr('a != 1'), bin('<>', col('a'), num('1')));
});

test('LIKE with ESCAPE, ILIKE, NOT LIKE', () => {
  assert.deepEqual(expr("a not like 'x!%%' escape '!'"), {
    kind: 'Like', expr: col('a'), pattern: str('x!%%'), escape: str('!'), not: true, caseInsensitive: false,
  });
  assert.deepEqual(expr("a ilike 'x%'"), { kind: 'Like', expr: col('a'), pattern: str('x%'), not: false, caseInsensitive: true });
});

test('BETWEEN binds its AND; IN lists and subqueries; IS [NOT] NULL; EXISTS', () => {
  assert.deepEqual(expr('a between 1 and 2 and b'), bin('and', { kind: 'Between', expr: col('a'), low: num('1'), high: num('2'), not: false }, col('b')));
  assert.deepEqual(expr('a not in (1, 2)'), { kind: 'InList', expr: col('a'), list: [num('1'), num('2')], not: true });
  const inq = parseExpression('a in (select b from t)');
  assert.equal(inq.kind, 'InSubquery');
  assert.deepEqual(expr('a is not null'), { kind: 'IsNull', expr: col('a'), not: true });
  const ex = parseExpression('not exists (select 1 from t)');
  assert.equal(ex.kind, 'Exists');
  assert.equal(ex.kind === 'Exists' && ex.not, true);
});

test('CASE searched and simple', () => {
  assert.deepEqual(expr("case when a > 1 then 'x' else 'y' end"), {
    kind: 'Case', whens: [{ when: bin('>', col('a'), num('1')), then: str('x') }], else: str('y'),
  });
  assert.deepEqual(expr('case a when 1 then 2 end'), { kind: 'Case', operand: col('a'), whens: [{ when: num('1'), then: num('2') }] });
});

test('literals: strings with quotes, numbers as written, dates, timestamps, intervals, booleans, null', () => {
  assert.deepEqual(expr("'it''s'"), str("it's"));
  assert.deepEqual(expr("N'naïve'"), str('naïve'));
  assert.deepEqual(expr("'multi\nline'"), str('multi\nline'));
  assert.deepEqual(expr('12.50'), num('12.50'));
  assert.deepEqual(expr('2.5E-3'), num('2.5E-3'));
  assert.deepEqual(expr("date '2024-01-31'"), { kind: 'Literal', type: 'date', value: '2024-01-31' });
  assert.deepEqual(expr("timestamp '2024-01-31T08:05'"), { kind: 'Literal', type: 'timestamp', value: '2024-01-31 08:05:00' });
  assert.deepEqual(expr("interval '3' day"), { kind: 'IntervalLiteral', value: '3', unit: 'day' });
  assert.deepEqual(expr("interval '2' months"), { kind: 'IntervalLiteral', value: '2', unit: 'month' });
  assert.deepEqual(expr('true'), { kind: 'Literal', type: 'boolean', value: 'true' });
  assert.deepEqual(expr('null'), { kind: 'Literal', type: 'null', value: '' });
});

test('functions: count(*), count(distinct x), keyword-like names, extract, sysdate, casts', () => {
  assert.deepEqual(expr('count(*)'), { kind: 'FunctionCall', name: 'count', args: [], distinct: false, star: true });
  assert.deepEqual(expr('COUNT(DISTINCT x)'), { kind: 'FunctionCall', name: 'count', args: [col('x')], distinct: true, star: false });
  for (const name of ['left', 'right', 'replace', 'trunc']) {
    const e = parseExpression(`${name}(a, 2)`);
    assert.equal(e.kind === 'FunctionCall' && e.name, name);
  }
  assert.deepEqual(expr('extract(year from d)'), { kind: 'FunctionCall', name: 'extract', args: [str('year'), col('d')], distinct: false, star: false });
  assert.deepEqual(expr('sysdate'), { kind: 'FunctionCall', name: 'sysdate', args: [], distinct: false, star: false });
  assert.deepEqual(expr('cast(a as varchar(50))'), { kind: 'Cast', expr: col('a'), type: { kind: 'TypeName', name: 'varchar', args: [50] } });
  assert.deepEqual(expr('a::int'), { kind: 'Cast', expr: col('a'), type: { kind: 'TypeName', name: 'int', args: [] } });
});

test('window functions with partition, order and frame', () => {
  const e = parseExpression('sum(x) over (partition by a order by b desc rows between unbounded preceding and current row)');
  assert.equal(e.kind, 'FunctionCall');
  if (e.kind !== 'FunctionCall') return;
  assert.deepEqual(strip(e.over), {
    partitionBy: [col('a')],
    orderBy: [{ expr: col('b'), descending: true }],
    frame: { unit: 'rows', start: { kind: 'unboundedPreceding' }, end: { kind: 'currentRow' } },
  });
});

test('select: distinct, top, star, qualified star, aliases with and without AS', () => {
  const s = select('select distinct top 10 *, t.*, a as x, b y, c "z z" from t');
  assert.equal(s.distinct, true);
  assert.deepEqual(strip(s.top), num('10'));
  assert.deepEqual(strip(s.items), [
    { expr: { kind: 'Star', qualifier: [] } },
    { expr: { kind: 'Star', qualifier: ['t'] } },
    { expr: col('a'), alias: 'x' },
    { expr: col('b'), alias: 'y' },
    { expr: col('c'), alias: 'z z' },
  ]);
});

test('group by, having, order by with positions, NULLS FIRST/LAST, limit and offset', () => {
  const q = query('select a, count(*) from t group by a having count(*) > 1 order by 2 desc nulls last, a nulls first limit 10 offset 5');
  assert.deepEqual(strip(q.orderBy), [
    { expr: num('2'), descending: true, nulls: 'last' },
    { expr: col('a'), descending: false, nulls: 'first' },
  ]);
  assert.deepEqual(strip(q.limit), num('10'));
  assert.deepEqual(strip(q.offset), num('5'));
  const body = q.body;
  assert.equal(body.kind === 'Select' && body.groupBy.length, 1);
  const f = query('select a from t offset 5 rows fetch first 10 rows only');
  assert.deepEqual([strip(f.limit), strip(f.offset)], [num('10'), num('5')]);
});

test('set operations: intersect binds tighter, left-associative, parentheses respected', () => {
  const shape = (sql: string): unknown => {
    const walk = (b: unknown): unknown => {
      const x = b as { kind: string; op?: string; left?: unknown; right?: unknown; from?: { name?: { name: string } }[] };
      if (x.kind === 'SetOperation') return [walk(x.left), x.op, walk(x.right)];
      if (x.kind === 'Select') return x.from?.[0]?.name?.name;
      return x.kind;
    };
    return walk(query(sql).body);
  };
  assert.deepEqual(shape('select a from t union select a from u intersect select a from v'), ['t', 'union', ['u', 'intersect', 'v']]);
  assert.deepEqual(shape('select a from t minus select a from u union select a from v'), [['t', 'minus', 'u'], 'union', 'v']);
  assert.deepEqual(shape('(select a from t union select a from u) intersect select a from v'), [['t', 'union', 'u'], 'intersect', 'v']);
  assert.deepEqual(shape('select a from t except select a from u'), ['t', 'minus', 'u']);
  const all = query('select a from t union all select a from u').body;
  assert.equal(all.kind === 'SetOperation' && all.all, true);
});

test('joins: inner, left outer, right, full, cross, using, comma joins, derived tables, nested joins', () => {
  const s = select('select * from a join b on a.id = b.id left outer join c using (id), d cross join e');
  assert.equal(s.from.length, 2);
  const first = s.from[0];
  assert.equal(first.kind, 'Join');
  if (first.kind !== 'Join') return;
  assert.equal(first.type, 'left');
  assert.deepEqual(first.using, ['id']);
  assert.equal(first.left.kind === 'Join' && first.left.type, 'inner');
  assert.equal(s.from[1].kind === 'Join' && s.from[1].type, 'cross');
  const d = select('select * from (select a from t) as x(p)').from[0];
  assert.equal(d.kind, 'DerivedTable');
  assert.deepEqual(d.kind === 'DerivedTable' ? [d.alias, d.columnAliases] : null, ['x', ['p']]);
  const nested = select('select * from a join (b join c on b.id = c.id) on a.id = b.id').from[0];
  assert.equal(nested.kind === 'Join' && nested.right.kind, 'Join');
  for (const t of ['right', 'full']) {
    const j = select(`select * from a ${t} join b on a.x = b.x`).from[0];
    assert.equal(j.kind === 'Join' && j.type, t);
  }
});

test('scalar subqueries and parenthesised queries as operands', () => {
  const s = select('select (select max(b) from u) m from t');
  assert.equal(s.items[0].expr.kind, 'ScalarSubquery');
  assert.equal(s.items[0].alias, 'm');
  const e = parseExpression('x in ((select 1 from t) union select 2 from u)');
  assert.equal(e.kind, 'InSubquery');
});

test('keywords are case-insensitive and names keep their spelling', () => {
  const s = select('SeLeCt Code FROM Accounts WHERE Division = 1');
  assert.deepEqual(strip(s.items[0].expr), col('Code'));
  assert.deepEqual(strip(s.from[0]), { kind: 'TableRef', name: { kind: 'TableName', name: 'Accounts' } });
});

test('every node made by the parser carries a span', () => {
  const st = parseStatement("select a.b + 1 as x, case when c then 'y' end from t join u on t.id = u.id where d in (1, 2)");
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}[${i}]`));
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.kind === 'string' && !['code', 'all', 'default', 'query', 'Values'].includes(o.kind)) {
      assert.ok(o.span, `${path} (${o.kind}) has no span`);
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'span') walk(v, `${path}.${k}`);
  };
  walk(st, 'statement');
  assert.deepEqual(st.span?.start, { line: 1, column: 1, offset: 0 });
});

test('statement spans cover the text across lines', () => {
  const st = parseStatement('select a\nfrom t\nwhere b = 1');
  assert.deepEqual(st.span, { start: { line: 1, column: 1, offset: 0 }, end: { line: 3, column: 12, offset: 27 } });
});
