/**
 * The simulated Visma.net Financials world: companies, each with customers
 * and suppliers held as read-DTO shaped documents. Generation is a pure
 * function of (seed, company, index), so a world is the same on every run;
 * writes then change it in memory. The HTTP layer (server.ts) turns requests
 * into calls on this module and knows nothing of how rows are generated.
 */

import { Rng } from '../common/prng.js';

export { Rng };

/** A seed for one row from (world seed, salt, company, index). */
export function rowSeed(seed: number, salt: number, company: number, index: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (const p of [salt, company, index]) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h = (h << 13) | (h >>> 19);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

const SURNAMES = [
  'de Vries', 'Jansen', 'van Dijk', 'Bakker', 'Visser', 'Smit', 'Meijer', 'de Boer', 'Mulder', 'de Groot',
  'Bos', 'Vos', 'Peters', 'Hendriks', 'van Leeuwen', 'Dekker', 'Brouwer', 'de Wit', 'Dijkstra', 'Smits',
  'de Graaf', 'van der Meer', 'van den Berg', 'Kok', 'Jacobs', 'de Haan', 'Vermeulen', 'van den Heuvel', 'van der Veen', 'Schouten',
];
const TRADES = [
  'Bouwbedrijf', 'Installatietechniek', 'Transport', 'Bakkerij', 'Schildersbedrijf', 'Accountants', 'Loodgieters', 'Hoveniers',
  'Autobedrijf', 'Drukkerij', 'Metaalbewerking', 'Advies', 'Groothandel', 'Timmerwerken', 'Elektrotechniek', 'Kaashandel',
];
const PLACES = [
  'Amsterdam', 'Rotterdam', 'Utrecht', 'Den Haag', 'Eindhoven', 'Groningen', 'Tilburg', 'Almere', 'Breda', 'Nijmegen',
  'Apeldoorn', 'Haarlem', 'Arnhem', 'Zwolle', 'Leiden', 'Maastricht', 'Delft', 'Deventer', 'Alkmaar', 'Hilversum',
];
const STREETS = ['Kerkstraat', 'Dorpsstraat', 'Molenweg', 'Stationsweg', 'Hoofdstraat', 'Schoolstraat', 'Julianastraat', 'Beatrixlaan', 'Industrieweg', 'Havenkade'];
const FORMS = ['B.V.', 'B.V.', 'B.V.', 'V.O.F.', 'en Zonen', 'Holding B.V.', ''];
const FIRST = ['Jan', 'Piet', 'Kees', 'Anna', 'Sanne', 'Lotte', 'Daan', 'Bram', 'Eva', 'Femke', 'Joost', 'Marieke'];

export function dutchCompanyName(rng: Rng): string {
  const surname = rng.pick(SURNAMES);
  const cap = surname.charAt(0).toUpperCase() + surname.slice(1);
  const style = rng.int(0, 3);
  const form = rng.pick(FORMS);
  const base =
    style === 0 ? `${rng.pick(TRADES)} ${cap}` : style === 1 ? `${cap} ${rng.pick(TRADES)}` : style === 2 ? `${cap} & ${rng.pick(SURNAMES)}` : `${rng.pick(TRADES)} ${rng.pick(PLACES)}`;
  return form ? `${base} ${form}` : base;
}

export const CUSTOMER_STATUSES = ['Active', 'OnHold', 'CreditHold', 'Inactive', 'OneTime'] as const;
export const SUPPLIER_STATUSES = ['Active', 'OnHold', 'Inactive', 'OneTime'] as const;

/** A stored document: the read DTO (without metadata) plus bookkeeping. */
export interface SimDocument {
  /** Read-DTO shaped fields (nested objects as the API returns them). */
  readonly dto: Record<string, unknown>;
  version: number;
  lastModified: number;
  created: number;
}

export type ResourceKind = 'customer' | 'supplier';

export interface Company {
  readonly id: string;
  readonly name: string;
  readonly resources: Record<ResourceKind, Map<string, SimDocument>>;
  nextInternalId: number;
}

function address(rng: Rng): Record<string, unknown> {
  return {
    addressId: rng.int(1000, 999999),
    addressLine1: `${rng.pick(STREETS)} ${rng.int(1, 250)}`,
    addressLine2: null,
    addressLine3: null,
    postalCode: `${rng.int(1000, 9999)} ${String.fromCharCode(65 + rng.int(0, 25))}${String.fromCharCode(65 + rng.int(0, 25))}`,
    city: rng.pick(PLACES),
    country: { id: 'NL', name: 'Nederland' },
    county: null,
  };
}

function contact(rng: Rng, company: string): Record<string, unknown> {
  const first = rng.pick(FIRST);
  const domain = company.toLowerCase().replace(/[^a-z]+/g, '').slice(0, 20) || 'bedrijf';
  return {
    contactId: rng.int(1000, 999999),
    name: company,
    attention: `${first} ${rng.pick(SURNAMES)}`,
    email: `${first.toLowerCase()}@${domain}.nl`,
    web: `https://www.${domain}.nl`,
    phone1: `0${rng.int(10, 79)}-${rng.int(1000000, 9999999)}`,
    phone2: null,
    fax: null,
  };
}

/** Generate one customer or supplier document. */
export function generateParty(kind: ResourceKind, seed: number, companyId: string, index: number, now: number, internalId: number): SimDocument {
  const rng = new Rng(rowSeed(seed, kind === 'customer' ? 1 : 2, Number(companyId) || 0, index));
  const name = dutchCompanyName(rng);
  const number = String((kind === 'customer' ? 10001 : 70001) + index);
  const created = now - rng.int(30, 1500) * 86_400_000 - rng.int(0, 86_399) * 1000;
  const lastModified = created + Math.floor(rng.next() * Math.max(0, now - 60_000 - created) / 1000) * 1000;
  const statuses = kind === 'customer' ? CUSTOMER_STATUSES : SUPPLIER_STATUSES;
  const status = rng.chance(0.85) ? 'Active' : rng.pick(statuses);
  // Seed 001: customers entered by hand carry no account reference.
  const accountReference = rng.chance(0.25) ? null : `AR-${number}`;
  const vat = `NL${rng.int(100000000, 999999999)}B${String(rng.int(1, 99)).padStart(2, '0')}`;
  const dto: Record<string, unknown> = {
    internalId,
    number,
    name,
    status,
    accountReference,
    corporateId: String(rng.int(10000000, 99999999)),
    vatRegistrationId: vat,
    currencyId: 'EUR',
    mainAddress: address(rng),
    mainContact: contact(rng, name),
    vatZone: { id: '01', description: 'Binnenland' },
    creditTerms: { id: '30D', description: '30 dagen' },
    parentRecord: null,
  };
  if (kind === 'customer') {
    dto.creditLimit = rng.int(0, 50) * 1000;
    dto.customerClass = { id: rng.pick(['BINNENLAND', 'EU', 'PARTICULIER']), description: 'Klantklasse' };
    dto.priceClass = null;
    dto.invoiceAddress = address(rng);
    dto.deliveryAddress = address(rng);
    dto.invoiceContact = contact(rng, name);
    dto.deliveryContact = contact(rng, name);
    dto.sendInvoicesByEmail = rng.chance(0.7);
    dto.printInvoices = false;
  } else {
    dto.supplierClass = { id: 'LEVERANCIER', description: 'Leveranciers' };
    dto.supplierAddress = address(rng);
    dto.supplierContact = contact(rng, name);
    dto.remitAddress = address(rng);
    dto.remitContact = contact(rng, name);
    dto.paymentMethod = { id: 'BANK', description: 'Bankoverschrijving' };
  }
  return { dto, version: 1, created, lastModified };
}

/** Fields every new document starts with, so writes to nested parts have somewhere to land. */
export function emptyParty(kind: ResourceKind, internalId: number): Record<string, unknown> {
  const addr = () => ({ addressId: null, addressLine1: null, addressLine2: null, addressLine3: null, postalCode: null, city: null, country: null, county: null });
  const cont = () => ({ contactId: null, name: null, attention: null, email: null, web: null, phone1: null, phone2: null, fax: null });
  const dto: Record<string, unknown> = {
    internalId,
    number: null,
    name: null,
    status: 'Active',
    accountReference: null,
    corporateId: null,
    vatRegistrationId: null,
    currencyId: 'EUR',
    mainAddress: addr(),
    mainContact: cont(),
    vatZone: null,
    creditTerms: null,
    parentRecord: null,
  };
  if (kind === 'customer') {
    Object.assign(dto, {
      creditLimit: 0,
      customerClass: null,
      priceClass: null,
      invoiceAddress: addr(),
      deliveryAddress: addr(),
      invoiceContact: cont(),
      deliveryContact: cont(),
      sendInvoicesByEmail: false,
      printInvoices: false,
    });
  } else {
    Object.assign(dto, { supplierClass: null, supplierAddress: addr(), supplierContact: cont(), remitAddress: addr(), remitContact: cont(), paymentMethod: null });
  }
  return dto;
}

/** Object-valued fields that `…Id` / `…Number` write fields land in (`customerClassId` → customerClass.id). */
const NESTED_TARGETS = [
  'country', 'county', 'customerClass', 'supplierClass', 'vatZone', 'creditTerms', 'priceClass', 'parentRecord', 'paymentMethod', 'location',
];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Apply an unwrapped write DTO to a read DTO: fields of the same name are
 * set, objects merge, and `xId` / `xNumber` fill `x.id` / `x.number`.
 */
export function applyWrite(target: Record<string, unknown>, write: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(write)) {
    if (k === 'internalId' || Array.isArray(v)) continue;
    if (isPlainObject(v)) {
      const existing = target[k];
      const into = isPlainObject(existing) ? existing : {};
      applyWrite(into, v);
      target[k] = into;
      continue;
    }
    const nested = NESTED_TARGETS.find((base) => k.startsWith(base) && k.length > base.length && /^[A-Z]/.test(k.slice(base.length)));
    if (nested && !(k in target)) {
      const field = k.charAt(nested.length).toLowerCase() + k.slice(nested.length + 1);
      const existing = target[nested];
      const into: Record<string, unknown> = isPlainObject(existing) ? existing : {};
      into[field] = v;
      if (nested === 'country' && field === 'id') into.name = v === 'NL' ? 'Nederland' : v;
      target[nested] = into;
      continue;
    }
    target[k] = v;
  }
}
