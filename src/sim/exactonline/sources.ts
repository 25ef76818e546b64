/**
 * Maps catalog endpoints to the data behind them: modelled datasets shared
 * by regular, bulk and sync URLs; small world tables computed on demand
 * (SystemDivisions, Me, Users, division classifications); and an empty,
 * write-only dataset per unmodelled endpoint so every URL answers.
 */
import type { ExactEndpoint } from '../../catalogs/exactonline.js';
import { amsterdamOffsetMs } from '../common/dutch.js';
import { Rng, hash32 } from '../common/prng.js';
import { emptyDataset, type Dataset } from './store.js';
import { ENTITY, WORLD_DATE, World, baseGuid, type Row, type SimUser } from './world.js';

/** Endpoint URL (lower case) → modelled dataset name. */
export const MODELLED_URLS: Record<string, string> = {
  'crm/accounts': 'Accounts', 'bulk/crm/accounts': 'Accounts', 'sync/crm/accounts': 'Accounts',
  'crm/contacts': 'Contacts', 'bulk/crm/contacts': 'Contacts', 'sync/crm/contacts': 'Contacts',
  'crm/bankaccounts': 'BankAccounts',
  'crm/addresses': 'Addresses', 'bulk/crm/addresses': 'Addresses', 'sync/crm/addresses': 'Addresses',
  'logistics/items': 'Items', 'bulk/logistics/items': 'Items', 'sync/logistics/items': 'Items',
  'financial/glaccounts': 'GLAccounts', 'bulk/financial/glaccounts': 'GLAccounts', 'sync/financial/glaccounts': 'GLAccounts',
  'vat/vatcodes': 'VATCodes',
  'financial/journals': 'Journals',
  'salesinvoice/salesinvoices': 'SalesInvoices', 'bulk/salesinvoice/salesinvoices': 'SalesInvoices', 'sync/salesinvoice/salesinvoices': 'SalesInvoices',
  'salesinvoice/salesinvoicelines': 'SalesInvoiceLines', 'bulk/salesinvoice/salesinvoicelines': 'SalesInvoiceLines',
  'financialtransaction/transactionlines': 'TransactionLines', 'bulk/financial/transactionlines': 'TransactionLines',
  'sync/financial/transactionlines': 'TransactionLines',
  'sync/deleted': 'Deleted',
  'webhooks/webhooksubscriptions': 'WebhookSubscriptions',
};

/** Endpoints answered from the world's small tables rather than a dataset. */
export const WORLD_TABLE_URLS = new Set([
  'system/divisions', 'system/alldivisions', 'system/getmostrecentlyuseddivisions', 'hrm/divisions', 'current/me',
  'system/users', 'users/users', 'hrm/divisionclassnames', 'hrm/divisionclasses', 'hrm/divisionclassvalues',
]);

/**
 * The dataset behind every endpoint URL. A modelled entity is shared by its
 * regular, bulk and sync URLs through MODELLED_URLS; an unmodelled one by
 * the catalog's twins (`syncTwin`, `bulkTwin`), so a row written through
 * crm/Quotations shows up in bulk/CRM/Quotations and, with its new
 * Timestamp, in sync/CRM/Quotations — and its deletion in sync/Deleted under
 * the entity's EntityType code.
 */
export class Datasets {
  readonly modelled: Map<string, Dataset>;
  private readonly generic = new Map<string, Dataset>();
  /** Endpoint URL (lower case) → group name (the sync URL, else the bulk URL, else its own). */
  private readonly groupOf = new Map<string, string>();
  private readonly groups = new Map<string, { key: string; aliases: string[]; deletedEntityType?: number }>();

  constructor(modelled: Map<string, Dataset>, endpoints: readonly ExactEndpoint[]) {
    this.modelled = modelled;
    const members = new Map<string, ExactEndpoint[]>();
    for (const ep of endpoints) {
      const url = ep.url.toLowerCase();
      if (MODELLED_URLS[url]) continue;
      const group = (ep.kind === 'sync' ? ep.url : ep.syncTwin ?? ep.bulkTwin ?? ep.url).toLowerCase();
      this.groupOf.set(url, group);
      let list = members.get(group);
      if (!list) members.set(group, (list = []));
      list.push(ep);
    }
    const rank = (e: ExactEndpoint) => (e.kind === 'sync' ? 2 : e.kind === 'bulk' ? 1 : 0);
    for (const [group, list] of members) {
      // The key is the one writes use: that of the regular endpoint, else the bulk one, else the sync one.
      const sorted = [...list].sort((a, b) => rank(a) - rank(b));
      const key = sorted[0].key[0] ?? 'ID';
      const aliases = [...new Set(sorted.map((e) => e.key[0]).filter((k): k is string => k !== undefined && k !== key && k !== 'Timestamp'))];
      const code = list.find((e) => e.deletedEntityType !== undefined)?.deletedEntityType;
      this.groups.set(group, { key: group === 'sync/deleted' ? 'ID' : key, aliases, ...(code !== undefined ? { deletedEntityType: code } : {}) });
    }
  }

  for(ep: ExactEndpoint): Dataset {
    const url = ep.url.toLowerCase();
    const name = MODELLED_URLS[url];
    if (name) {
      const m = this.modelled.get(name);
      if (m) return m;
      let g = this.generic.get(name);
      if (!g) this.generic.set(name, (g = emptyDataset(name, name === 'Deleted' ? 'ID' : ep.key[0] ?? 'ID')));
      return g;
    }
    const group = this.groupOf.get(url) ?? url;
    let g = this.generic.get(group);
    if (!g) {
      const info = this.groups.get(group);
      g = emptyDataset(group, info?.key ?? ep.key[0] ?? 'ID', info?.aliases ?? [], info?.deletedEntityType);
      this.generic.set(group, g);
    }
    return g;
  }
}

const CLASS_NAMES = [['Branche', ['Bouw', 'Detailhandel', 'Zakelijke dienstverlening', 'Horeca']], ['Regio', ['Noord', 'Midden', 'Zuid']], ['Kantoor', ['Amsterdam', 'Utrecht']]] as const;

function divisionRow(w: World, code: number, user: SimUser): Row {
  const d = w.divisions.get(code);
  if (!d) return {};
  const sub = w.subscriptions[d.subscription];
  const u = sub.users[0] ?? w.defaultUser;
  return {
    Code: d.code,
    Description: d.description,
    Customer: sub.customerId,
    CustomerCode: sub.customerCode,
    CustomerName: sub.customerName,
    Status: d.status,
    BlockingStatus: w.blocked.get(code) ?? d.blockingStatus,
    Current: code === user.currentDivision,
    Hid: d.hid,
    IsMainDivision: d.isMain,
    IsDossierDivision: false,
    IsHRDivision: false,
    IsPracticeDivision: d.subscription === 0 && d.isMain,
    Country: 'NL',
    Currency: 'EUR',
    Legislation: 'NL',
    StartDate: d.startDate,
    ArchiveDate: d.archiveDate,
    DivisionMoveDate: w.moveDates.get(code) ?? null,
    AddressLine1: d.addressLine1,
    Postcode: d.postcode,
    City: d.city,
    VATNumber: d.vatNumber,
    ChamberOfCommerceNumber: d.kvk,
    Email: d.email,
    Created: d.startDate,
    Modified: d.startDate,
    Creator: u.id,
    CreatorFullName: u.fullName,
    Modifier: u.id,
    ModifierFullName: u.fullName,
    Division: code,
  };
}

function userRow(w: World, u: SimUser, div: number): Row {
  const sub = w.subscriptions[u.subscription];
  return {
    UserID: u.id,
    UserName: u.userName,
    FirstName: u.firstName,
    LastName: u.lastName,
    FullName: u.fullName,
    Initials: `${u.firstName.charAt(0)}.`,
    Email: u.email,
    Customer: sub.customerId,
    CustomerName: sub.customerName,
    Language: 'NL',
    UserLanguage: 'nl-NL',
    UserTypeCode: 'A',
    IsAPICall: false,
    StartDate: Date.UTC(2020, 0, 1),
    Created: Date.UTC(2020, 0, 1),
    Modified: Date.UTC(2024, 5, 1),
    LastLogin: WORLD_DATE,
    Division: div,
  };
}

/**
 * Rows of a world table as seen from `div` by `user`. Subscription tables
 * (Users, classifications) show the subscription the division belongs to.
 */
export function worldTable(w: World, url: string, div: number, user: SimUser, now: number): Row[] {
  const sub = w.subscriptionOf(div);
  switch (url) {
    case 'system/divisions':
    case 'system/alldivisions':
      return w.accessibleDivisions(user).map((c) => divisionRow(w, c, user));
    case 'system/getmostrecentlyuseddivisions':
      return [user.currentDivision, ...w.accessibleDivisions(user).filter((c) => c !== user.currentDivision).slice(0, 2)].map((c) => divisionRow(w, c, user));
    case 'hrm/divisions':
      return sub.divisions.map((c) => divisionRow(w, c, user));
    case 'current/me': {
      const us = w.subscriptions[user.subscription];
      return [{
        UserID: user.id,
        UserName: user.userName,
        FullName: user.fullName,
        FirstName: user.firstName,
        LastName: user.lastName,
        Initials: `${user.firstName.charAt(0)}.`,
        Email: user.email,
        CurrentDivision: user.currentDivision,
        AccountingDivision: user.currentDivision,
        DivisionCustomer: us.customerId,
        DivisionCustomerCode: us.customerCode,
        DivisionCustomerName: us.customerName,
        CustomerCode: us.customerCode,
        Language: 'NL',
        LanguageCode: 'nl-NL',
        Legislation: 1,
        PackageCode: 'ACC',
        IsClientUser: false,
        IsStarterUser: false,
        IsMyFirmLiteUser: false,
        IsMyFirmPortalUser: false,
        IsEmployeeSelfServiceUser: false,
        IsOEIMigrationMandatory: false,
        ServerTime: new Date(now + amsterdamOffsetMs(now)).toISOString().replace('Z', ''),
        ServerUtcOffset: amsterdamOffsetMs(now) / 3_600_000,
      }];
    }
    case 'system/users':
    case 'users/users':
      return sub.users.map((u) => userRow(w, u, div));
    case 'hrm/divisionclassnames':
      return CLASS_NAMES.map(([name], i) => ({
        ID: baseGuid(w.seed, ENTITY.DivisionClassNames, sub.index, i),
        Customer: sub.customerId,
        Description: name,
        SequenceNr: i + 1,
        Created: Date.UTC(2022, 0, 1),
        Modified: Date.UTC(2022, 0, 1),
      }));
    case 'hrm/divisionclasses':
      return CLASS_NAMES.flatMap(([name, values], i) =>
        values.map((v, j) => ({
          ID: baseGuid(w.seed, ENTITY.DivisionClasses, sub.index, i * 16 + j),
          ClassNameID: baseGuid(w.seed, ENTITY.DivisionClassNames, sub.index, i),
          ClassNameCustomer: sub.customerId,
          ClassNameDescription: name,
          Code: String(j + 1),
          Description: v,
          SequenceNr: j + 1,
          Created: Date.UTC(2022, 0, 1),
          Modified: Date.UTC(2022, 0, 1),
        })),
      );
    case 'hrm/divisionclassvalues':
      return sub.divisions.map((code, k) => {
        const rng = new Rng(hash32(w.seed, ENTITY.DivisionClassValues, sub.index, code));
        const row: Row = {
          ID: baseGuid(w.seed, ENTITY.DivisionClassValues, sub.index, k),
          Customer: sub.customerId,
          Division: code,
          Created: Date.UTC(2022, 0, 1),
          Modified: Date.UTC(2022, 0, 1),
        };
        CLASS_NAMES.forEach(([, values], i) => {
          row[`Class_0${i + 1}_ID`] = baseGuid(w.seed, ENTITY.DivisionClasses, sub.index, i * 16 + rng.int(0, values.length - 1));
        });
        return row;
      });
    default:
      return [];
  }
}
