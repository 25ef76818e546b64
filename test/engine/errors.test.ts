/**
 * QA findings on the errors users see: DuckDB failures become located
 * SluiceErrors in the user's names (never the generated SQL or temp table
 * names), text compared with numbers behaves the same for = and >, and values
 * of the wrong type are refused before anything is written.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { SluiceError } from '../../src/util/errors.js';
import { fakeProvider, rows, runAll, type FakeContainer } from './helpers.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.close();
  session = undefined;
});

async function open(): Promise<{ s: Session; fakes: FakeContainer[] }> {
  const fp = fakeProvider();
  session = await openSession({ providers: [fp.provider], containers: [{ alias: 'eol', provider: 'Fake', options: {} }] });
  return { s: session, fakes: fp.containers };
}

async function failure(s: Session, script: string): Promise<SluiceError> {
  try {
    await runAll(s, script);
  } catch (e) {
    assert.ok(e instanceof SluiceError, `not a SluiceError: ${String(e)}`);
    const shown = e.format();
    assert.doesNotMatch(shown, /__sluice_|Generated SQL|Binder Error|Catalog Error|Conversion Error|mem_/);
    return e;
  }
  assert.fail(`expected ${script} to fail`);
}

describe('DuckDB errors in the user’s terms', () => {
  it('a column missing from GROUP BY is named and located, also on a remote table', async () => {
    const { s } = await open();
    const e = await failure(s, 'select customer,\n       count(*) from orders@eol');
    assert.equal(e.code, 'ENG510');
    assert.match(e.message, /^customer must appear in GROUP BY or be used in an aggregate/);
    assert.deepEqual([e.details.location?.line, e.details.location?.column], [1, 8]);
  });

  it('an unknown function is located with a did-you-mean over the function library', async () => {
    const { s } = await open();
    const e = await failure(s, 'select 1, to_nmber(1) from dual');
    assert.equal(e.code, 'ENG511');
    assert.equal(e.message, 'Unknown function to_nmber.');
    assert.equal(e.details.location?.column, 11);
    assert.match(e.details.hint ?? '', /to_number/);
  });

  it('conversion errors say which value and which function', async () => {
    const { s } = await open();
    const n = await failure(s, "select to_number('abc') from dual");
    assert.equal(n.code, 'ENG512');
    assert.equal(n.message, "to_number: the value 'abc' is not a number.");
    assert.equal(n.details.location?.column, 8);
    const d = await failure(s, "select 1 x, to_date('31-13-2024','DD-MM-YYYY') from dual");
    // The function library may raise its own code for this (ENG124); either way value, format and place are given.
    assert.match(d.code, /^ENG(512|124)$/);
    assert.match(d.message, /^to_date: .*'31-13-2024'.*'DD-MM-YYYY'/);
    assert.equal(d.details.location?.column, 13);
  });

  it('other DuckDB failures keep ENG500 but show neither SQL nor temp names', async () => {
    const { s } = await open();
    const e = await failure(s, "select * from orders@eol where amount = list_value(1)");
    assert.equal(e.code.startsWith('ENG5'), true);
  });
});

describe('text compared with a number', () => {
  it('compares as numbers for = and > alike (Oracle converts the text)', async () => {
    const { s } = await open();
    await runAll(s, "create table codes (code varchar2(10)); insert into codes values ('999'); insert into codes values ('1000'); insert into codes values ('1200'); insert into codes values ('X1')");
    assert.deepEqual(await rows(s, 'select code from codes where code > 1100 order by code'), [['1200']]);
    assert.deepEqual(await rows(s, 'select code from codes where code = 1000'), [['1000']]);
    assert.deepEqual(await rows(s, 'select code from codes where 1000 > code'), [['999']]);
    assert.deepEqual(await rows(s, "select code from codes where code > '1100' order by code"), [['1200'], ['999'], ['X1']]);
    assert.deepEqual(await rows(s, 'select code from codes where code in (999, 1200) order by code'), [['1200'], ['999']]);
    assert.deepEqual(await rows(s, 'select code from codes where code between 1000 and 1100'), [['1000']]);
    assert.deepEqual(await rows(s, 'select code from codes where code <> 1000 order by code'), [['1200'], ['999']]);
  });
});

describe('no silent wrong results', () => {
  it('fails the statement when every partition it reads failed, instead of returning 0', async () => {
    const { s } = await open();
    await assert.rejects(runAll(s, 'use 999; select count(*) from customers@eol'), (e: SluiceError) => {
      assert.equal(e.code, 'ENG211');
      assert.match(e.message, /Customers from eol failed in every partition: partition 999: HTTP 500/);
      assert.equal(e.details.container, 'eol');
      return true;
    });
    // With one good partition the failed one is still skipped and reported.
    const r = await runAll(s, 'use 101, 999; select count(*) from customers@eol');
    assert.deepEqual(r[1].rows, [[1]]);
    assert.equal(r[1].result.summary().failedPartitions.length, 1);
  });

  it('a use query without rows is an error and keeps the old selection', async () => {
    const { s } = await open();
    await runAll(s, 'use 102');
    await assert.rejects(runAll(s, 'use select 1 from dual where 1 = 0'), (e: SluiceError) => {
      assert.equal(e.code, 'ENG032');
      assert.match(e.message, /returned no partitions/);
      assert.equal(e.details.location?.column, 5);
      return true;
    });
    assert.deepEqual(await rows(s, 'select distinct division from orders@eol'), [[102]]);
  });

  it('a use query returning descriptions says the first column must be a partition code, with one full stop', async () => {
    const { s } = await open();
    await assert.rejects(runAll(s, "use select 'Acme B.V.' from dual"), (e: SluiceError) => {
      assert.equal(e.code, 'ENG033');
      assert.match(e.message, /"Acme B\.V\.", which is not a partition code: its first column must be a partition code/);
      assert.doesNotMatch(e.message, /\.\.$/);
      return true;
    });
    await assert.rejects(runAll(s, 'use B.V.'), (e: SluiceError) => e.code !== 'ENG031' || !e.message.endsWith('..'));
  });

  it('warns when the filter asks for a partition that is not selected', async () => {
    const { s } = await open();
    const r = await runAll(s, 'use 101; select count(*) from orders@eol where division = 201');
    assert.deepEqual(r[1].rows, [[0]]);
    const warnings = r[1].result.summary().warnings;
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^Division 201 is not selected.*use 201@eol/);
    const ok = await runAll(s, 'select count(*) from orders@eol where division = 101');
    assert.deepEqual(ok[0].result.summary().warnings, []);
  });
});

describe('writes are checked before anything is sent', () => {
  it('a value that does not suit its column names the column and the row, and writes nothing', async () => {
    const { s, fakes } = await open();
    await assert.rejects(runAll(s, "insert into orders@eol (division, orderid, customer, amount)\nvalues (101, 1, 'A', 5), (101, 2, 'B', 'veel')"), (e: SluiceError) => {
      assert.equal(e.code, 'ENG027');
      assert.equal(e.message, "Row 2: 'veel' is not a number for column Amount; nothing was inserted.");
      assert.deepEqual([e.details.location?.line, e.details.location?.column], [2, 40]);
      return true;
    });
    await assert.rejects(runAll(s, "update orders@eol set amount = 'veel' where orderid = 1"), (e: SluiceError) => {
      assert.equal(e.code, 'ENG027');
      assert.match(e.message, /'veel' is not a number for column Amount/);
      assert.equal(e.details.location?.column, 32);
      return true;
    });
    assert.equal(fakes[0].log.writes.length, 0);
    await runAll(s, "insert into orders@eol (division, orderid, customer, amount) values (101, 3, 'C', '12.5')");
    assert.deepEqual(fakes[0].log.writes[0].rows, [[101, 3, 'C', 12.5]]);
    await runAll(s, "use 101; update orders@eol set amount = '7.25' where orderid = 10101");
    assert.deepEqual(fakes[0].log.writes[1].rows, [[10101, 7.25]]);
  });

  it('refuses to assign the partition column or a key column of a remote table', async () => {
    const { s, fakes } = await open();
    await assert.rejects(runAll(s, 'update orders@eol set amount = 1, division = 102 where orderid = 1'), (e: SluiceError) => {
      assert.equal(e.code, 'ENG029');
      assert.match(e.message, /^Division is the partition column of Orders@eol/);
      assert.equal(e.details.location?.column, 35);
      return true;
    });
    await assert.rejects(runAll(s, 'update orders@eol set orderid = 7 where orderid = 1'), (e: SluiceError) => e.code === 'ENG029' && /key column/.test(e.message));
    assert.equal(fakes[0].log.writes.length, 0);
  });

  it('refuses an insert whose partition value is not one of the container’s partitions', async () => {
    const { s, fakes } = await open();
    await assert.rejects(runAll(s, "insert into orders@eol (division, orderid, customer) values (101, 1, 'A'), (555, 2, 'B')"), (e: SluiceError) => {
      assert.equal(e.code, 'ENG028');
      assert.equal(e.message, 'Row 2: Division 555 is not a partition of eol; nothing was inserted.');
      assert.equal(e.details.location?.column, 77);
      return true;
    });
    assert.equal(fakes[0].log.writes.length, 0);
  });

  it('an unknown insert column points at that column', async () => {
    const { s } = await open();
    await assert.rejects(runAll(s, "insert into orders@eol (division, custmer) values (101, 'A')"), (e: SluiceError) => {
      assert.equal(e.code, 'ENG023');
      assert.equal(e.details.location?.column, 35);
      assert.match(e.details.hint ?? '', /Customer/);
      return true;
    });
  });
});
