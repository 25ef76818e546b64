/**
 * The simulated Exact Online world: subscriptions (Exact customers), their
 * divisions and users, and per division lazily generated datasets (accounts,
 * contacts, addresses, items, GL accounts, VAT codes, journals, sales
 * invoices and lines, transaction lines consistent with processed invoices).
 *
 * Rows are pure functions of (seed, division, index): nothing is stored for
 * the generated base, so 1,000 divisions or 1,000,000 transaction lines cost
 * no memory. Writes live in a per-division overlay (changed, inserted and
 * deleted rows) that the query layer merges over the base. Base GUIDs encode
 * (entity, division, index) so a key lookup is O(1).
 */
import { address, bankAccount, companyCode, companyName, companyNameOf, domainFor, emailFor, iban, kvkNumber, personName, phone, vatNumber } from '../common/dutch.js';
import { BoundedCache } from '../common/cache.js';
import { Rng, hash32 } from '../common/prng.js';

/** One cell: strings (guids lower-case), numbers (DateTime as epoch ms, Int64 as number), booleans, null. */
export type SimValue = string | number | boolean | null;
export type Row = Record<string, SimValue>;

export interface WorldOptions {
  seed: number;
  divisions: number;
  subscriptions: number;
  accountsPerDivision: number;
  transactionLinesPerDivision: number;
}

export interface SimUser {
  readonly id: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly fullName: string;
  readonly email: string;
  readonly userName: string;
  readonly subscription: number;
  /** Divisions this user may open. */
  readonly access: ReadonlySet<number>;
  readonly currentDivision: number;
}

export interface SimSubscription {
  readonly index: number;
  readonly customerId: string;
  /** Account code of the customer in Exact's own division: 18 chars, leading spaces. */
  readonly customerCode: string;
  readonly customerName: string;
  readonly divisions: number[];
  readonly users: SimUser[];
}

export interface SimDivision {
  readonly code: number;
  readonly subscription: number;
  readonly description: string;
  readonly status: number;
  readonly blockingStatus: number;
  readonly isMain: boolean;
  readonly hid: number;
  readonly startDate: number;
  readonly archiveDate: number | null;
  readonly city: string;
  readonly postcode: string;
  readonly addressLine1: string;
  readonly vatNumber: string;
  readonly kvk: string;
  readonly email: string;
}

/** Entity codes used inside base GUIDs (and as dataset ids). */
export const ENTITY = {
  Accounts: 1, Contacts: 2, Addresses: 3, Items: 4, GLAccounts: 5, VATCodes: 6, Journals: 7, SalesInvoices: 8,
  SalesInvoiceLines: 9, TransactionLines: 10, Entries: 11, Subscriptions: 12, Users: 13, Divisions: 14,
  DivisionClassNames: 15, DivisionClasses: 16, DivisionClassValues: 17, Customers: 18, Payments: 19, BankAccounts: 20,
} as const;

/** A fixed reference date so the world does not depend on when it is generated. */
export const WORLD_DATE = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;
const HISTORY_START = Date.UTC(2025, 0, 1);

export function pad18(code: string | number): string {
  return String(code).trim().padStart(18, ' ');
}

/** Base GUID: hash, entity, division and index laid out so they can be read back. */
const guidMiddles = new Map<number, string>();
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Eight lower-case hex digits of a 32-bit number (padStart/toString(16) cost more on the hot path). */
function hex8(n: number): string {
  return HEX2[n >>> 24] + HEX2[(n >>> 16) & 255] + HEX2[(n >>> 8) & 255] + HEX2[n & 255];
}

export function baseGuid(seed: number, entity: number, division: number, index: number): string {
  const h = hex8(hash32(seed, entity, division, index));
  // The entity/division part repeats for every row of a division: build it once.
  const mk = entity * 16_777_216 + division;
  let middle = guidMiddles.get(mk);
  if (middle === undefined) {
    const e = entity.toString(16).padStart(4, '0');
    const dh = ((division >>> 12) & 0xfff).toString(16).padStart(3, '0');
    const dl = (division & 0xfff).toString(16).padStart(3, '0');
    middle = `-${e}-4${dh}-8${dl}-`;
    if (guidMiddles.size > 100_000) guidMiddles.clear();
    guidMiddles.set(mk, middle);
  }
  const tail = index < 4294967296 ? `0000${hex8(index)}` : index.toString(16).padStart(12, '0');
  return h + middle + tail;
}

/** Read a base GUID back; undefined when it is not one this seed made. */
export function decodeGuid(seed: number, guid: string): { entity: number; division: number; index: number } | undefined {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-4([0-9a-f]{3})-8([0-9a-f]{3})-([0-9a-f]{12})$/.exec(guid.toLowerCase());
  if (!m) return undefined;
  const entity = parseInt(m[2], 16);
  const division = parseInt(m[3], 16) * 4096 + parseInt(m[4], 16);
  const index = parseInt(m[5], 16);
  if (hash32(seed, entity, division, index).toString(16).padStart(8, '0') !== m[1]) return undefined;
  return { entity, division, index };
}

// ---------------------------------------------------------------------------
// Fixed reference data per division

/** [code, description, type, balanceSide, balanceType] of the chart of accounts. */
export const GL_CHART: readonly (readonly [string, string, number, 'D' | 'C', 'B' | 'W'])[] = [
  ['0100', 'Gebouwen', 30, 'D', 'B'],
  ['0200', 'Inventaris', 32, 'D', 'B'],
  ['0500', 'Eigen vermogen', 40, 'C', 'B'],
  ['1000', 'Kas', 10, 'D', 'B'],
  ['1100', 'Bank', 12, 'D', 'B'],
  ['1300', 'Debiteuren', 20, 'D', 'B'],
  ['1400', 'Vooruitbetaalde kosten', 35, 'D', 'B'],
  ['1500', 'Te betalen btw hoog', 24, 'C', 'B'],
  ['1510', 'Te betalen btw laag', 24, 'C', 'B'],
  ['1520', 'Te vorderen btw', 24, 'D', 'B'],
  ['1600', 'Crediteuren', 22, 'C', 'B'],
  ['1700', 'Tussenrekening', 90, 'D', 'B'],
  ['3000', 'Voorraad', 29, 'D', 'B'],
  ['4000', 'Lonen en salarissen', 110, 'D', 'W'],
  ['4100', 'Huisvestingskosten', 110, 'D', 'W'],
  ['4200', 'Autokosten', 110, 'D', 'W'],
  ['4300', 'Kantoorkosten', 110, 'D', 'W'],
  ['4400', 'Verkoopkosten', 110, 'D', 'W'],
  ['7000', 'Kostprijs omzet', 111, 'D', 'W'],
  ['8000', 'Omzet hoog', 110, 'C', 'W'],
  ['8010', 'Omzet laag', 110, 'C', 'W'],
  ['8020', 'Omzet nul', 110, 'C', 'W'],
  ['8100', 'Omzet diensten', 110, 'C', 'W'],
  ['9000', 'Rentebaten en -lasten', 110, 'D', 'W'],
];
export const GL_INDEX = new Map(GL_CHART.map((g, i) => [g[0], i]));

/** [code, description, percentage, GL to pay code]. */
export const VAT_CODES: readonly (readonly [string, string, number, string])[] = [
  ['0', 'Geen btw', 0, '1500'],
  ['1', 'Btw laag, verkopen', 0.09, '1510'],
  ['2', 'Btw hoog, verkopen', 0.21, '1500'],
  ['3', 'Btw 0%, verkopen', 0, '1500'],
  ['5', 'Btw laag, inkopen', 0.09, '1520'],
  ['6', 'Btw hoog, inkopen', 0.21, '1520'],
];
export const VAT_INDEX = new Map(VAT_CODES.map((v, i) => [v[0], i]));

/** [code, description, type, GL account code]. */
export const JOURNALS: readonly (readonly [string, string, number, string | null])[] = [
  ['10', 'Kas', 10, '1000'],
  ['20', 'Bank', 12, '1100'],
  ['60', 'Inkoop', 22, null],
  ['70', 'Verkoop', 20, null],
  ['90', 'Memoriaal', 90, null],
];
export const JOURNAL_INDEX = new Map(JOURNALS.map((j, i) => [j[0], i]));

const PRODUCTS = [
  'Adviesuur', 'Installatie', 'Onderhoudscontract', 'Bureaustoel', 'Laptop', 'Printerpapier A4', 'Koffiebonen 1 kg',
  'Fietsreparatie', 'Schilderwerk per m2', 'Tuinonderhoud', 'Licentie per maand', 'Cursusdag', 'Transport per km',
  'Ontwerpuur', 'Drukwerk', 'Zonnepaneel', 'Warmtepomp', 'Kantoorlamp', 'Boekhouding per maand', 'Webhosting',
];

// ---------------------------------------------------------------------------
// Sizes of one division's base data

export interface DivisionSizes {
  accounts: number;
  /** Bank accounts: two of every three accounts have one (see bankAccountOwner). */
  bankAccounts: number;
  contacts: number;
  addresses: number;
  items: number;
  processedInvoices: number;
  invoices: number;
  invoiceLines: number;
  invoiceTransactionLines: number;
  paymentPairs: number;
  transactionLines: number;
}

export function divisionSizes(o: WorldOptions): DivisionSizes {
  const accounts = Math.max(3, o.accountsPerDivision);
  const t = Math.max(12, o.transactionLinesPerDivision);
  // Invoices come in blocks of three with 1, 2 and 3 lines (6 lines, 12 transaction lines).
  const blocks = Math.max(1, Math.floor((t * 0.7) / 12));
  const processedInvoices = blocks * 3;
  const open = Math.max(3, 3 * Math.floor(processedInvoices / 30));
  const invoices = processedInvoices + open;
  const invoiceTransactionLines = blocks * 12;
  const paymentPairs = Math.max(0, Math.floor((t - invoiceTransactionLines) / 2));
  return {
    accounts,
    bankAccounts: accounts - Math.floor(accounts / 3),
    contacts: accounts,
    addresses: accounts * 2,
    items: 40,
    processedInvoices,
    invoices,
    invoiceLines: (invoices / 3) * 6,
    invoiceTransactionLines,
    paymentPairs,
    transactionLines: invoiceTransactionLines + paymentPairs * 2,
  };
}

/** Invoice line j → (invoice index, line within the invoice). */
export function lineToInvoice(j: number): { invoice: number; line: number } {
  const b = Math.floor(j / 6);
  const r = j % 6;
  if (r === 0) return { invoice: 3 * b, line: 0 };
  if (r <= 2) return { invoice: 3 * b + 1, line: r - 1 };
  return { invoice: 3 * b + 2, line: r - 3 };
}

/** Number of lines of base invoice i and the index of its first line. */
export function invoiceLines(i: number): { count: number; first: number } {
  const b = Math.floor(i / 3);
  const r = i % 3;
  return { count: r + 1, first: b * 6 + [0, 1, 3][r] };
}

// ---------------------------------------------------------------------------
// The world

export class World {
  readonly seed: number;
  readonly options: WorldOptions;
  readonly sizes: DivisionSizes;
  readonly subscriptions: SimSubscription[] = [];
  readonly divisions = new Map<number, SimDivision>();
  readonly users = new Map<string, SimUser>();
  /** The accountant the simulator's test app is authorised for. */
  readonly defaultUser: SimUser;
  /** A division that exists but the default user cannot open (403 NoDivisionAccess). */
  readonly foreignDivision: number;
  /** DivisionMoveDate per division that was "moved" (its sync Timestamps regenerated). */
  readonly moveDates = new Map<number, number>();
  /** BlockingStatus (1–6) of blocked divisions: listed in SystemDivisions, 403 DivisionBlocked on use. */
  readonly blocked = new Map<number, number>();

  constructor(options: WorldOptions) {
    this.options = options;
    this.seed = options.seed >>> 0;
    this.sizes = divisionSizes(options);
    const nSubs = Math.max(1, Math.min(options.subscriptions, options.divisions));
    const nDivs = Math.max(1, options.divisions);
    const rng = new Rng(hash32(this.seed, 999));
    const codes = new Set<number>([102673]);
    const ordered = [102673];
    while (ordered.length < nDivs) {
      const c = rng.int(100000, 3999999);
      if (codes.has(c) || c === 3285515) continue;
      codes.add(c);
      ordered.push(c);
    }
    for (let s = 0; s < nSubs; s++) {
      const srng = new Rng(hash32(this.seed, ENTITY.Customers, s));
      this.subscriptions.push({
        index: s,
        customerId: baseGuid(this.seed, ENTITY.Customers, 0, s),
        customerCode: pad18(String(srng.int(100000, 9999999))),
        customerName: s === 0 ? `Accountantskantoor ${personName(srng).last}` : companyName(srng),
        divisions: [],
        users: [],
      });
    }
    // Divisions are dealt round-robin so every subscription has at least one.
    ordered.forEach((code, i) => this.subscriptions[i % nSubs].divisions.push(code));
    // One more subscription the accountant is not linked to: its division answers 403.
    const foreign = {
      index: nSubs,
      customerId: baseGuid(this.seed, ENTITY.Customers, 0, nSubs),
      customerCode: pad18('9635421'),
      customerName: 'Vreemde Klant B.V.',
      divisions: [3285515],
      users: [],
    };
    this.subscriptions.push(foreign);
    this.foreignDivision = 3285515;
    for (const sub of this.subscriptions) {
      sub.divisions.forEach((code, k) => {
        const drng = new Rng(hash32(this.seed, ENTITY.Divisions, code));
        const name = code === 102673 ? 'Demo Administratie B.V.' : companyName(drng);
        const addr = address(drng);
        const status = k > 0 && drng.chance(0.1) ? 2 : 1;
        this.divisions.set(code, {
          code,
          subscription: sub.index,
          description: name,
          status,
          blockingStatus: 0,
          isMain: k === 0,
          hid: code,
          startDate: HISTORY_START - drng.int(0, 2000) * DAY,
          archiveDate: status === 2 ? WORLD_DATE - drng.int(10, 300) * DAY : null,
          city: addr.city,
          postcode: addr.postcode,
          addressLine1: addr.line1,
          vatNumber: vatNumber(drng),
          kvk: kvkNumber(drng),
          email: emailFor('info', name),
        });
      });
    }
    // Users: the accountant (all linked subscriptions) plus a few per subscription.
    const linked = new Set<number>();
    for (const sub of this.subscriptions.slice(0, nSubs)) for (const d of sub.divisions) linked.add(d);
    for (const sub of this.subscriptions) {
      const n = sub.index === 0 ? 3 : 2;
      for (let u = 0; u < n; u++) {
        const urng = new Rng(hash32(this.seed, ENTITY.Users, sub.index, u));
        const p = personName(urng);
        const isAccountant = sub.index === 0 && u === 0;
        const user: SimUser = {
          id: baseGuid(this.seed, ENTITY.Users, sub.index, u),
          firstName: p.first,
          lastName: p.last,
          fullName: p.full,
          email: emailFor(p.full, sub.customerName),
          userName: emailFor(p.full, sub.customerName),
          subscription: sub.index,
          access: isAccountant ? linked : new Set(sub.divisions),
          currentDivision: sub.divisions[0],
        };
        sub.users.push(user);
        this.users.set(user.id, user);
      }
    }
    this.defaultUser = this.subscriptions[0].users[0];
  }

  guid(entity: number, division: number, index: number): string {
    return baseGuid(this.seed, entity, division, index);
  }

  /** Divisions the default user can open, in a stable order. */
  accessibleDivisions(user: SimUser = this.defaultUser): number[] {
    return [...user.access].sort((a, b) => a - b);
  }

  subscriptionOf(division: number): SimSubscription {
    const d = this.divisions.get(division);
    return this.subscriptions[d ? d.subscription : 0];
  }

  // -------------------------------------------------------------------------
  // Cheap per-row facts used across entities

  accountStatus(div: number, i: number): 'A' | 'S' | 'P' | 'C' {
    const h = hash32(this.seed, ENTITY.Accounts, div, i, 7) % 20;
    return h < 12 ? 'C' : h < 15 ? 'P' : h < 17 ? 'S' : 'A';
  }

  /** A customer account index for base invoice i (always Status C). */
  invoiceCustomer(div: number, i: number): number {
    const n = this.sizes.accounts;
    let k = hash32(this.seed, ENTITY.SalesInvoices, div, i, 3) % n;
    for (let step = 0; step < n; step++, k = (k + 1) % n) if (this.accountStatus(div, k) === 'C') return k;
    return 0;
  }

  itemPrice(div: number, k: number): number {
    return 5 + (hash32(this.seed, ENTITY.Items, div, k, 5) % 50000) / 100;
  }

  itemVat(k: number): string {
    return k % 5 === 0 ? '1' : '2';
  }

  itemRevenueGl(k: number): string {
    return k % 5 === 0 ? '8010' : k % 7 === 0 ? '8100' : '8000';
  }

  invoiceDate(i: number): number {
    const span = Math.floor((WORLD_DATE - HISTORY_START) / DAY);
    return HISTORY_START + Math.floor((i * span) / Math.max(1, this.sizes.invoices)) * DAY;
  }

  invoiceStatus(i: number): number {
    if (i < this.sizes.processedInvoices) return 50;
    return i % 3 === 0 ? 10 : 20;
  }

  invoiceNumber(i: number): number | null {
    if (i >= this.sizes.processedInvoices) return null;
    return yearMonth(this.invoiceDate(i)).year * 100000 + 70000 + i + 1;
  }

  lineAmounts(div: number, j: number): { item: number; quantity: number; unitPrice: number; vat: string; net: number; vatAmount: number } {
    const item = hash32(this.seed, ENTITY.SalesInvoiceLines, div, j, 1) % this.sizes.items;
    const quantity = 1 + (hash32(this.seed, ENTITY.SalesInvoiceLines, div, j, 2) % 10);
    const unitPrice = this.itemPrice(div, item);
    const vat = this.itemVat(item);
    const net = round2(quantity * unitPrice);
    const vatAmount = round2(net * VAT_CODES[VAT_INDEX.get(vat) ?? 0][2]);
    return { item, quantity, unitPrice, vat, net, vatAmount };
  }

  /**
   * What every transaction line of base invoice i repeats (customer, date,
   * number, totals). An invoice has 3–6 lines and its payment 2 more, so a
   * small cache saves most of the hashing and name building on a scan.
   */
  private readonly invoiceFactsCache = new BoundedCache<number, InvoiceFacts>(4096);

  invoiceFacts(div: number, inv: number): InvoiceFacts {
    const k = div * 67_108_864 + inv;
    let f = this.invoiceFactsCache.get(k);
    if (f === undefined) {
      const custIndex = this.invoiceCustomer(div, inv);
      const cust = accountRef(this, div, custIndex);
      f = {
        custId: cust.id,
        custName: cust.name,
        accountCode: pad18(1000 + custIndex),
        date: this.invoiceDate(inv),
        number: this.invoiceNumber(inv),
        totals: this.invoiceTotals(div, inv),
      };
      if (inv < 67_108_864) this.invoiceFactsCache.set(k, f);
    }
    return f;
  }

  invoiceTotals(div: number, i: number): { net: number; vat: number } {
    const { count, first } = invoiceLines(i);
    let net = 0;
    let vat = 0;
    for (let l = 0; l < count; l++) {
      const a = this.lineAmounts(div, first + l);
      net += a.net;
      vat += a.vatAmount;
    }
    return { net: round2(net), vat: round2(vat) };
  }
}

export interface InvoiceFacts {
  readonly custId: string;
  readonly custName: string;
  readonly accountCode: string;
  readonly date: number;
  readonly number: number | null;
  readonly totals: { net: number; vat: number };
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Base Timestamp of row i of an entity: below every write counter, increasing with i. */
export function baseTimestamp(entity: number, i: number): number {
  return entity * 100_000_000 + i + 1;
}
/** Write counters start here, above every base Timestamp. */
export const WRITE_TIMESTAMP_START = 10_000_000_000;

function audit(row: Row, world: World, created: number, div: number, i: number, entity: number): void {
  const u = world.subscriptionOf(div).users[0] ?? world.defaultUser;
  row.Created = created;
  row.Modified = created + (hash32(world.seed, entity, div, i, 9) % 30) * DAY;
  if (row.Modified > WORLD_DATE) row.Modified = WORLD_DATE;
  row.Creator = u.id;
  row.CreatorFullName = u.fullName;
  row.Modifier = u.id;
  row.ModifierFullName = u.fullName;
  row.Division = div;
  row.Timestamp = baseTimestamp(entity, i);
}

// ---------------------------------------------------------------------------
// Base row generators: (world, division, index) → row

/** What an account derives from its company name, by `companyCode` (a few thousand names, computed once each). */
const companyFacts = new Map<number, { name: string; searchCode: string; email: string; website: string }>();

function companyOf(code: number): { name: string; searchCode: string; email: string; website: string } {
  let f = companyFacts.get(code);
  if (f === undefined) {
    const name = companyNameOf(code);
    f = { name, searchCode: name.replace(/[^A-Za-z]/g, '').slice(0, 10).toUpperCase(), email: emailFor('info', name), website: `www.${domainFor(name)}` };
    companyFacts.set(code, f);
  }
  return f;
}

export function accountRow(w: World, div: number, i: number): Row {
  const rng = new Rng(hash32(w.seed, ENTITY.Accounts, div, i));
  const co = companyOf(companyCode(rng));
  const name = co.name;
  const a = address(rng);
  const status = w.accountStatus(div, i);
  const isSupplier = rng.chance(0.25);
  const created = HISTORY_START - rng.int(0, 1500) * DAY;
  const row: Row = {
    ID: w.guid(ENTITY.Accounts, div, i),
    Code: pad18(1000 + i),
    Name: name,
    SearchCode: co.searchCode,
    Status: status,
    StatusSince: created,
    Type: 'A',
    IsSupplier: isSupplier,
    IsSales: status === 'C',
    IsPurchase: isSupplier,
    IsAccountant: 0,
    IsCompetitor: 0,
    IsMailing: rng.chance(0.5) ? 1 : 0,
    IsReseller: false,
    Blocked: rng.chance(0.02),
    AddressLine1: a.line1,
    Postcode: a.postcode,
    City: a.city,
    Country: 'NL ',
    CountryName: 'Nederland',
    Email: co.email,
    Phone: phone(rng),
    Website: co.website,
    VATNumber: vatNumber(rng),
    ChamberOfCommerce: kvkNumber(rng),
    Language: 'NL',
    LanguageDescription: 'Nederlands',
    Currency: 'EUR',
    SalesCurrency: 'EUR',
    SalesVATCode: '2',
    MainContact: w.guid(ENTITY.Contacts, div, i),
    CustomerSince: status === 'C' ? created : null,
    CreditLineSales: rng.int(0, 20) * 500,
    DiscountSales: 0,
  };
  audit(row, w, created, div, i, ENTITY.Accounts);
  return row;
}

/** The account bank account j belongs to: accounts 0, 1, 3, 4, 6, 7, … (every third has none). */
export function bankAccountOwner(j: number): number {
  return Math.floor(j / 2) * 3 + (j % 2);
}

export function bankAccountRow(w: World, div: number, j: number): Row {
  const rng = new Rng(hash32(w.seed, ENTITY.BankAccounts, div, j));
  const owner = bankAccountOwner(j);
  const acc = accountRow(w, div, owner);
  const b = bankAccount(rng);
  const row: Row = {
    ID: w.guid(ENTITY.BankAccounts, div, j),
    Account: acc.ID,
    AccountName: acc.Name,
    BankAccount: b.iban,
    IBAN: b.iban,
    BICCode: b.bic,
    BankName: b.bankName,
    BankDescription: b.bankName,
    BankAccountHolderName: acc.Name,
    BankAccountName: null,
    Description: null,
    Format: null,
    Type: 'B',
    TypeDescription: 'Bank',
    Main: true,
    Blocked: false,
  };
  audit(row, w, Number(acc.Created), div, j, ENTITY.BankAccounts);
  return row;
}

export function contactRow(w: World, div: number, i: number): Row {
  const rng = new Rng(hash32(w.seed, ENTITY.Contacts, div, i));
  const p = personName(rng);
  const acc = accountRow(w, div, i);
  const row: Row = {
    ID: w.guid(ENTITY.Contacts, div, i),
    Account: acc.ID,
    AccountName: acc.Name,
    AccountIsCustomer: acc.Status === 'C',
    AccountIsSupplier: acc.IsSupplier,
    AccountMainContact: acc.ID === null ? null : w.guid(ENTITY.Contacts, div, i),
    IsMainContact: true,
    FirstName: p.first,
    LastName: p.last,
    FullName: p.full,
    Initials: p.initials,
    Email: emailFor(p.full, String(acc.Name)),
    BusinessEmail: emailFor(p.full, String(acc.Name)),
    BusinessPhone: acc.Phone,
    Mobile: phone(rng),
    Gender: rng.chance(0.5) ? 'M' : 'V',
    Language: 'NL',
    City: acc.City,
    Postcode: acc.Postcode,
    Country: 'NL',
    JobTitleDescription: rng.pick(['Directeur', 'Eigenaar', 'Financieel manager', 'Inkoper', 'Office manager']),
    HID: i + 1,
  };
  audit(row, w, Number(acc.Created), div, i, ENTITY.Contacts);
  return row;
}

export function addressRow(w: World, div: number, j: number): Row {
  const i = Math.floor(j / 2);
  const acc = accountRow(w, div, i);
  const type = j % 2 === 0 ? 1 : 3;
  const row: Row = {
    ID: w.guid(ENTITY.Addresses, div, j),
    Account: acc.ID,
    AccountName: acc.Name,
    AccountIsSupplier: acc.IsSupplier,
    Type: type,
    Main: type === 1,
    AddressLine1: acc.AddressLine1,
    Postcode: acc.Postcode,
    City: acc.City,
    Country: 'NL',
    CountryName: 'Nederland',
    Contact: w.guid(ENTITY.Contacts, div, i),
    Phone: acc.Phone,
  };
  audit(row, w, Number(acc.Created), div, j, ENTITY.Addresses);
  return row;
}

export function glAccountRow(w: World, div: number, i: number): Row {
  const g = GL_CHART[i];
  const row: Row = {
    ID: w.guid(ENTITY.GLAccounts, div, i),
    Code: g[0],
    Description: g[1],
    Type: g[2],
    BalanceSide: g[3],
    BalanceType: g[4],
    IsBlocked: false,
    SearchCode: g[0],
    VATCode: g[0].startsWith('80') ? (g[0] === '8010' ? '1' : '2') : null,
  };
  audit(row, w, HISTORY_START - 400 * DAY, div, i, ENTITY.GLAccounts);
  return row;
}

export function glId(w: World, div: number, code: string): string | null {
  const i = GL_INDEX.get(code);
  return i === undefined ? null : w.guid(ENTITY.GLAccounts, div, i);
}

export function vatCodeRow(w: World, div: number, i: number): Row {
  const v = VAT_CODES[i];
  const row: Row = {
    ID: w.guid(ENTITY.VATCodes, div, i),
    Code: v[0],
    Description: v[1],
    Percentage: v[2],
    Type: 'E',
    Charged: false,
    IsBlocked: false,
    GLToPay: glId(w, div, v[3]),
    GLToPayCode: v[3],
    Country: 'NL',
  };
  audit(row, w, HISTORY_START - 400 * DAY, div, i, ENTITY.VATCodes);
  return row;
}

export function journalRow(w: World, div: number, i: number): Row {
  const j = JOURNALS[i];
  const row: Row = {
    ID: w.guid(ENTITY.Journals, div, i),
    Code: j[0],
    Description: j[1],
    Type: j[2],
    GLAccount: j[3] ? glId(w, div, j[3]) : null,
    GLAccountCode: j[3],
    Currency: 'EUR',
    AllowVAT: j[2] === 20 || j[2] === 22,
    IsBlocked: false,
    BankAccountIBAN: j[2] === 12 ? iban(new Rng(hash32(w.seed, ENTITY.Journals, div))) : null,
  };
  audit(row, w, HISTORY_START - 400 * DAY, div, i, ENTITY.Journals);
  return row;
}

const PRODUCT_UNITS = ['uur', 'stuk', 'stuk', 'maand', 'dag', 'km'];
export function itemRow(w: World, div: number, k: number): Row {
  const gl = w.itemRevenueGl(k);
  const row: Row = {
    ID: w.guid(ENTITY.Items, div, k),
    Code: `ART${String(k + 1).padStart(5, '0')}`,
    Description: `${PRODUCTS[k % PRODUCTS.length]}${k >= PRODUCTS.length ? ` ${Math.floor(k / PRODUCTS.length) + 1}` : ''}`,
    IsSalesItem: true,
    IsPurchaseItem: k % 3 === 0,
    IsStockItem: k % 4 === 1,
    IsTime: PRODUCTS[k % PRODUCTS.length].endsWith('uur') ? 1 : 0,
    SalesVatCode: w.itemVat(k),
    GLRevenue: glId(w, div, gl),
    GLRevenueCode: gl,
    GLRevenueDescription: GL_CHART[GL_INDEX.get(gl) ?? 0][1],
    GLCosts: glId(w, div, '7000'),
    GLCostsCode: '7000',
    CostPriceStandard: Math.round(w.itemPrice(div, k) * 60) / 100,
    StandardSalesPrice: w.itemPrice(div, k),
    Unit: PRODUCT_UNITS[k % PRODUCT_UNITS.length],
    UnitDescription: PRODUCT_UNITS[k % PRODUCT_UNITS.length],
    Stock: k % 4 === 1 ? hash32(w.seed, ENTITY.Items, div, k, 8) % 200 : 0,
  };
  audit(row, w, HISTORY_START - 200 * DAY, div, k, ENTITY.Items);
  return row;
}

function accountRef(w: World, div: number, k: number): { id: string; name: string } {
  const rng = new Rng(hash32(w.seed, ENTITY.Accounts, div, k));
  return { id: w.guid(ENTITY.Accounts, div, k), name: companyName(rng) };
}

export function salesInvoiceRow(w: World, div: number, i: number): Row {
  const cust = accountRef(w, div, w.invoiceCustomer(div, i));
  const date = w.invoiceDate(i);
  const status = w.invoiceStatus(i);
  const tot = w.invoiceTotals(div, i);
  const row: Row = {
    InvoiceID: w.guid(ENTITY.SalesInvoices, div, i),
    InvoiceNumber: w.invoiceNumber(i),
    InvoiceTo: cust.id,
    InvoiceToName: cust.name,
    OrderedBy: cust.id,
    OrderedByName: cust.name,
    DeliverTo: cust.id,
    DeliverToName: cust.name,
    InvoiceDate: date,
    OrderDate: date,
    DueDate: date + 30 * DAY,
    Status: status,
    StatusDescription: status === 50 ? 'Verwerkt' : status === 20 ? 'Open' : 'Concept',
    Type: 8020,
    TypeDescription: 'Verkoopfactuur',
    Journal: '70',
    JournalDescription: 'Verkoop',
    Currency: 'EUR',
    AmountFCExclVat: tot.net,
    VATAmountFC: tot.vat,
    VATAmountDC: tot.vat,
    AmountFC: round2(tot.net + tot.vat),
    AmountDC: round2(tot.net + tot.vat),
    AmountDiscount: 0,
    Description: `Factuur ${new Date(date).toISOString().slice(0, 7)}`,
    YourRef: `PO-${hash32(w.seed, ENTITY.SalesInvoices, div, i, 4) % 100000}`,
    PaymentCondition: '30',
    PaymentConditionDescription: '30 dagen',
    PaymentReference: null,
  };
  audit(row, w, date, div, i, ENTITY.SalesInvoices);
  return row;
}

export function salesInvoiceLineRow(w: World, div: number, j: number): Row {
  const { invoice, line } = lineToInvoice(j);
  const a = w.lineAmounts(div, j);
  const item = itemRow(w, div, a.item);
  const vat = VAT_CODES[VAT_INDEX.get(a.vat) ?? 0];
  const row: Row = {
    ID: w.guid(ENTITY.SalesInvoiceLines, div, j),
    InvoiceID: w.guid(ENTITY.SalesInvoices, div, invoice),
    LineNumber: line + 1,
    Item: item.ID,
    ItemCode: item.Code,
    ItemDescription: item.Description,
    Description: item.Description,
    Quantity: a.quantity,
    UnitPrice: a.unitPrice,
    NetPrice: a.unitPrice,
    Discount: 0,
    AmountFC: a.net,
    AmountDC: a.net,
    VATCode: a.vat,
    VATCodeDescription: vat[1],
    VATPercentage: vat[2],
    VATAmountFC: a.vatAmount,
    VATAmountDC: a.vatAmount,
    GLAccount: item.GLRevenue,
    GLAccountDescription: item.GLRevenueDescription,
    UnitCode: item.Unit,
    UnitDescription: item.Unit,
  };
  audit(row, w, w.invoiceDate(invoice), div, j, ENTITY.SalesInvoiceLines);
  return row;
}

/** UTC year and month of an instant, by day (dates here are whole days; a Date per row is costly). */
const yearMonths = new Map<number, { year: number; month: number }>();
function yearMonth(ms: number): { year: number; month: number } {
  const day = Math.floor(ms / DAY);
  let ym = yearMonths.get(day);
  if (ym === undefined) {
    const d = new Date(day * DAY);
    ym = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 };
    if (yearMonths.size > 100_000) yearMonths.clear();
    yearMonths.set(day, ym);
  }
  return ym;
}

function periodFields(row: Row, date: number): void {
  const ym = yearMonth(date);
  row.Date = date;
  row.FinancialYear = ym.year;
  row.FinancialPeriod = ym.month;
}

export function transactionLineRow(w: World, div: number, j: number): Row {
  const s = w.sizes;
  const row: Row = { ID: w.guid(ENTITY.TransactionLines, div, j), Currency: 'EUR', ExchangeRate: 1, Status: 50 };
  if (j < s.invoiceTransactionLines) {
    const b = Math.floor(j / 12);
    const r = j % 12;
    const [inv, t] = r < 3 ? [3 * b, r] : r < 7 ? [3 * b + 1, r - 3] : [3 * b + 2, r - 7];
    const { count, first } = invoiceLines(inv);
    const facts = w.invoiceFacts(div, inv);
    const date = facts.date;
    const number = facts.number;
    const tot = facts.totals;
    periodFields(row, date);
    row.EntryID = w.guid(ENTITY.Entries, div, inv);
    row.EntryNumber = number;
    row.InvoiceNumber = number;
    row.JournalCode = '70';
    row.JournalDescription = 'Verkoop';
    row.Type = 20;
    row.LineNumber = t;
    row.Account = facts.custId;
    row.AccountCode = facts.accountCode;
    row.AccountName = facts.custName;
    row.DueDate = date + 30 * DAY;
    row.Description = `Factuur ${number}`;
    let gl: string;
    let amount: number;
    if (t === 0) {
      gl = '1300';
      amount = round2(tot.net + tot.vat);
      row.LineType = 0;
    } else if (t <= count) {
      const a = w.lineAmounts(div, first + t - 1);
      gl = w.itemRevenueGl(a.item);
      amount = -a.net;
      row.Item = w.guid(ENTITY.Items, div, a.item);
      row.ItemCode = `ART${String(a.item + 1).padStart(5, '0')}`;
      row.Quantity = -a.quantity;
      row.VATCode = a.vat;
      row.VATPercentage = VAT_CODES[VAT_INDEX.get(a.vat) ?? 0][2];
      row.AmountVATFC = -a.vatAmount;
      row.AmountVATBaseFC = -a.net;
      row.LineType = 1;
    } else {
      gl = '1500';
      amount = -tot.vat;
      row.LineType = 2;
    }
    row.GLAccount = glId(w, div, gl);
    row.GLAccountCode = gl;
    row.GLAccountDescription = GL_CHART[GL_INDEX.get(gl) ?? 0][1];
    row.AmountDC = amount;
    row.AmountFC = amount;
    audit(row, w, date, div, j, ENTITY.TransactionLines);
    periodFields(row, date);
    return row;
  }
  // Bank lines: payment q of processed invoice q mod P, two lines (bank debit, debtor credit).
  const q = Math.floor((j - s.invoiceTransactionLines) / 2);
  const t = (j - s.invoiceTransactionLines) % 2;
  const inv = q % s.processedInvoices;
  const facts = w.invoiceFacts(div, inv);
  const tot = facts.totals;
  const total = round2(tot.net + tot.vat);
  const date = Math.min(WORLD_DATE, facts.date + (14 + (hash32(w.seed, ENTITY.Payments, div, q) % 20)) * DAY);
  const gl = t === 0 ? '1100' : '1300';
  row.EntryID = w.guid(ENTITY.Payments, div, q);
  row.EntryNumber = 20_000_000 + q + 1;
  row.InvoiceNumber = facts.number;
  row.JournalCode = '20';
  row.JournalDescription = 'Bank';
  row.Type = 40;
  row.LineNumber = t;
  row.LineType = t === 0 ? 0 : 1;
  row.Account = facts.custId;
  row.AccountCode = facts.accountCode;
  row.AccountName = facts.custName;
  row.GLAccount = glId(w, div, gl);
  row.GLAccountCode = gl;
  row.GLAccountDescription = GL_CHART[GL_INDEX.get(gl) ?? 0][1];
  row.AmountDC = t === 0 ? total : -total;
  row.AmountFC = t === 0 ? total : -total;
  row.Description = `Betaling factuur ${facts.number}`;
  row.PaymentReference = String(facts.number);
  audit(row, w, date, div, j, ENTITY.TransactionLines);
  periodFields(row, date);
  return row;
}
