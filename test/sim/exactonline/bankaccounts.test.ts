/**
 * Bank accounts in the default world: two of every three accounts have one
 * in crm/BankAccounts, with a realistic IBAN whose ISO 7064 check digits
 * are valid — mostly Dutch, some Belgian (with the Belgian account's own
 * mod-97 check) — and the bank's BIC. New bank accounts must reference an
 * existing account and carry a valid IBAN.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Rng } from '../../../src/sim/common/prng.js';
import { bankAccount, isValidIban } from '../../../src/sim/common/dutch.js';
import { allPages, errorText, results, setup } from './helpers.js';

/** ISO 13616 check written out here from the standard, independent of the simulator's helper. */
function ibanOk(iban: string): boolean {
  const moved = iban.slice(4) + iban.slice(0, 4);
  const digits = moved.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  return BigInt(digits) % 97n === 1n;
}

describe('Exact simulator bank accounts', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  const D = 102673;

  before(async () => {
    env = await setup();
  });
  after(async () => {
    await env.sim.close();
  });

  const all = (path: string) => allPages((p) => env.get(p), path);

  it('gives two of every three accounts a bank account with a valid NL or BE IBAN and its BIC', async () => {
    const accounts = await all(`/api/v1/${D}/crm/Accounts?$select=ID,Name`);
    const banks = await all(`/api/v1/${D}/crm/BankAccounts?$select=ID,Account,AccountName,BankAccount,IBAN,BICCode,BankName,Main`);
    assert.equal(accounts.length, 150);
    assert.equal(banks.length, 100);
    const byId = new Map(accounts.map((a) => [a.ID, a]));
    for (const b of banks) {
      const iban = String(b.IBAN);
      assert.ok(ibanOk(iban), iban);
      assert.equal(b.BankAccount, iban);
      assert.ok(byId.has(b.Account), `bank account ${String(b.ID)} belongs to an existing account`);
      assert.equal(b.AccountName, byId.get(b.Account)?.Name);
      if (iban.startsWith('NL')) {
        assert.match(iban, /^NL\d{2}[A-Z]{4}\d{10}$/);
        assert.equal(String(b.BICCode).slice(0, 4), iban.slice(4, 8), 'the BIC names the bank of the IBAN');
      } else {
        assert.match(iban, /^BE\d{2}\d{12}$/);
        const body = iban.slice(4, 14);
        assert.equal(Number(iban.slice(14)), Number(BigInt(body) % 97n) || 97, 'Belgian national check digits');
        assert.match(String(b.BICCode), /BE/);
      }
      assert.equal(typeof b.BankName, 'string');
      assert.equal(b.Main, true);
    }
    const nl = banks.filter((b) => String(b.IBAN).startsWith('NL')).length;
    assert.ok(nl >= 70 && nl < 100, `${nl} Dutch of 100: mostly Dutch, some Belgian`);
    assert.equal(new Set(banks.map((b) => b.IBAN)).size, banks.length, 'IBANs are distinct');
  });

  it('makes Belgian IBANs at the asked share, all valid', () => {
    const rng = new Rng(5);
    const drawn = Array.from({ length: 2000 }, () => bankAccount(rng, 0.5));
    const be = drawn.filter((b) => b.country === 'BE').length;
    assert.ok(be > 900 && be < 1100, String(be));
    for (const b of drawn) assert.ok(ibanOk(b.iban) && isValidIban(b.iban), b.iban);
    assert.equal(isValidIban('NL91ABNA0417164300'), true);
    assert.equal(isValidIban('NL91ABNA0417164301'), false);
  });

  it('creates a bank account for an existing account with a valid IBAN only', async () => {
    const [acc] = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Name&$skip=2&$top=1`));
    const bad = await env.send('POST', `/api/v1/${D}/crm/BankAccounts`, { Account: acc.ID, BankAccount: 'NL91ABNA0417164301' });
    assert.equal(bad.status, 500);
    assert.match(errorText(bad), /not a valid IBAN/);
    const noAccount = await env.send('POST', `/api/v1/${D}/crm/BankAccounts`, { Account: '00000000-0000-4000-8000-000000000001', BankAccount: 'NL91ABNA0417164300' });
    assert.equal(noAccount.status, 500);
    assert.match(errorText(noAccount), /Account/);
    const ok = await env.send('POST', `/api/v1/${D}/crm/BankAccounts`, { Account: acc.ID, BankAccount: 'nl91 abna 0417 1643 00' }, { Prefer: 'return=representation' });
    assert.equal(ok.status, 201, ok.text);
    const d = (ok.json as { d: Record<string, unknown> }).d;
    assert.deepEqual([d.BankAccount, d.IBAN, d.AccountName], ['NL91ABNA0417164300', 'NL91ABNA0417164300', acc.Name]);
  });
});
