/**
 * Dates: UTC instants by default; with `dutchLocalTime` (the unsure fact
 * that Exact's dates behave as Dutch local time) the server's own
 * timestamps (Created, Modified, DeletedDate, default InvoiceDate) read as
 * Amsterdam wall-clock time written as UTC, and an instant sent with a zone
 * is stored as Amsterdam wall-clock time. current/Me's ServerTime and
 * ServerUtcOffset follow Amsterdam summer and winter time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { amsterdamOffsetMs } from '../../../src/sim/common/dutch.js';
import { ManualClock } from '../../../src/util/clock.js';
import { results, setup } from './helpers.js';

const dateMs = (v: unknown) => Number(/\/Date\((-?\d+)\)\//.exec(String(v))?.[1]);

describe('Amsterdam time', () => {
  it('matches the time zone database for every hour of 2025 and 2026', () => {
    const fmt = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Amsterdam', timeZoneName: 'shortOffset' });
    for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2027, 0, 1); t += 3_600_000) {
      const name = fmt.formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName')?.value;
      assert.equal(amsterdamOffsetMs(t), name === 'GMT+2' ? 7_200_000 : 3_600_000, new Date(t).toISOString());
    }
    assert.equal(amsterdamOffsetMs(Date.UTC(2026, 2, 29, 0, 59, 59)), 3_600_000);
    assert.equal(amsterdamOffsetMs(Date.UTC(2026, 2, 29, 1, 0, 0)), 7_200_000);
  });
});

describe('Exact simulator dates', () => {
  it('reports ServerTime and ServerUtcOffset in Amsterdam summer time', async () => {
    const env = await setup({ clock: new ManualClock(Date.UTC(2026, 6, 1, 10, 0, 0)) });
    try {
      const [me] = results(await env.get('/api/v1/current/Me?$select=ServerTime,ServerUtcOffset'));
      assert.deepEqual([me.ServerTime, me.ServerUtcOffset], ['2026-07-01T12:00:00.000', 2]);
    } finally {
      await env.sim.close();
    }
  });

  it('writes UTC instants by default and Amsterdam wall-clock time with dutchLocalTime', async () => {
    const at = Date.UTC(2026, 6, 1, 10, 0, 0);
    for (const dutch of [false, true]) {
      const env = await setup({ clock: new ManualClock(at), dutchLocalTime: dutch, accountsPerDivision: 10, transactionLinesPerDivision: 100 });
      try {
        const D = 102673;
        const created = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'Tijd B.V.' }, { Prefer: 'return=representation' });
        const acc = (created.json as { d: Record<string, unknown> }).d;
        assert.equal(dateMs(acc.Created), dutch ? Date.UTC(2026, 6, 1, 12) : at, `Created, dutch=${String(dutch)}`);
        assert.equal(dateMs(acc.Modified), dateMs(acc.Created));
        const [item] = results(await env.get(`/api/v1/${D}/logistics/Items?$select=ID&$top=1`));
        const inv = async (InvoiceDate?: string) => {
          const r = await env.send('POST', `/api/v1/${D}/salesinvoice/SalesInvoices`, { OrderedBy: acc.ID, Journal: '70', ...(InvoiceDate ? { InvoiceDate } : {}), SalesInvoiceLines: [{ Item: item.ID }] }, { Prefer: 'return=representation' });
          assert.equal(r.status, 201, r.text);
          return dateMs((r.json as { d: Record<string, unknown> }).d.InvoiceDate);
        };
        assert.equal(await inv('2026-07-01T00:00:00Z'), dutch ? Date.UTC(2026, 6, 1, 2) : Date.UTC(2026, 6, 1), 'an instant with a zone');
        assert.equal(await inv('2026-07-01T00:00:00'), Date.UTC(2026, 6, 1), 'wall-clock text is kept as it is');
        assert.equal(await inv(), dutch ? Date.UTC(2026, 6, 1, 12) : at, 'the default is now');
      } finally {
        await env.sim.close();
      }
    }
  });
});
