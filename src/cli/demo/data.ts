/**
 * The demo's in-memory data set: company administrations (divisions),
 * relations (accounts) and sales invoices, created with ordinary SQL in the
 * in-memory container. Deterministic: the same rows every run. Used by
 * `sluice demo` and as the startup SQL of the server's demo database; kept
 * free of other imports so both can load it without a cycle.
 */
import type { Session } from '../../engine/api.js';

/** The aliases, Exact division and Visma company of the demo; the division and company are the ones seed 001 uses. */
export const EXACT_ALIAS = 'eol';
export const VISMA_ALIAS = 'vismanet';
export const SEED_DIVISION = 102673;
export const SEED_COMPANY = '1896329';

export const DEMO_CONTAINER = 'inmemorystorage';

/** A small deterministic generator (mulberry32), so the demo data never changes between runs. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DIVISIONS = [
  { code: 102673, description: 'Van Dam Holding B.V.', city: 'Amsterdam', customer: 'VDH' },
  { code: 102674, description: 'Bakkerij Van Dam B.V.', city: 'Utrecht', customer: 'VDH' },
  { code: 215001, description: 'Noorderlicht Installatietechniek Drenthe B.V.', city: 'Assen', customer: 'NLI' },
  { code: 345345, description: 'Groene Vallei Hoveniers V.O.F.', city: 'Zwolle', customer: 'GVH' },
];

const PREFIXES = ['Bakkerij', 'Installatiebedrijf', 'Hoveniersbedrijf', 'Autobedrijf', 'Drukkerij', 'Transportbedrijf', 'Schildersbedrijf', 'Administratiekantoor', 'Kapsalon', 'Fietsenwinkel', 'Bouwbedrijf', 'Dierenkliniek'];
const SURNAMES = ['De Vries', 'Jansen', 'Bakker', 'Visser', 'Smit', 'Meijer', 'De Boer', 'Mulder', 'De Groot', 'Bos', 'Vos', 'Peters', 'Hendriks', 'Van Leeuwen', 'Dekker', 'Brouwer', 'De Wit', 'Dijkstra', 'Smits', 'De Graaf', 'Van der Meer', 'Kok', 'Jacobs', 'Van den Berg'];
const FORMS = ['B.V.', 'V.O.F.', '', 'Holding B.V.', '& Zn.'];
const CITIES = [
  ['Amsterdam', '1012'], ['Rotterdam', '3011'], ['Utrecht', '3511'], ['Groningen', '9711'], ['Assen', '9401'],
  ['Emmen', '7811'], ['Zwolle', '8011'], ['Hoogeveen', '7901'], ['Meppel', '7941'], ['Eindhoven', '5611'],
  ['Leeuwarden', '8911'], ['Apeldoorn', '7311'],
];
const ITEMS = ['Onderhoud', 'Levering', 'Advies', 'Installatie', 'Reparatie', 'Abonnement', 'Projectwerk'];
const MONTHS = ['januari', 'februari', 'maart', 'april', 'mei', 'juni', 'juli', 'augustus', 'september', 'oktober', 'november', 'december'];

function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The demo script: CREATE TABLEs and INSERTs (a few hundred rows). */
export function demoScript(): string {
  const rnd = random(20260101);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const c = DEMO_CONTAINER;
  const parts: string[] = [];

  parts.push(`create or replace table divisions@${c} (code integer, description varchar, city varchar, customercode varchar, status integer)`);
  parts.push(
    `insert into divisions@${c} (code, description, city, customercode, status) values\n` +
      DIVISIONS.map((d) => `(${d.code}, ${quote(d.description)}, ${quote(d.city)}, ${quote(d.customer)}, 1)`).join(',\n'),
  );

  parts.push(
    `create or replace table accounts@${c} (division integer, code integer, name varchar, city varchar, postcode varchar, country varchar, vatnumber varchar, status varchar)`,
  );
  const accounts: { division: number; code: number; name: string }[] = [];
  const accountRows: string[] = [];
  for (const d of DIVISIONS) {
    for (let n = 0; n < 45; n++) {
      const code = 1000 + n * 7 + Math.floor(rnd() * 7);
      const name = [pick(PREFIXES), pick(SURNAMES), pick(FORMS)].filter((s) => s).join(' ');
      const [city, pc] = pick(CITIES);
      const postcode = `${pc} ${String.fromCharCode(65 + Math.floor(rnd() * 26))}${String.fromCharCode(65 + Math.floor(rnd() * 26))}`;
      const vat = rnd() < 0.8 ? quote(`NL${String(Math.floor(rnd() * 1e9)).padStart(9, '0')}B01`) : 'null';
      const status = rnd() < 0.7 ? 'C' : rnd() < 0.6 ? 'S' : 'P';
      accounts.push({ division: d.code, code, name });
      accountRows.push(`(${d.code}, ${code}, ${quote(name)}, ${quote(city)}, ${quote(postcode)}, 'NL', ${vat}, '${status}')`);
    }
  }
  parts.push(`insert into accounts@${c} (division, code, name, city, postcode, country, vatnumber, status) values\n${accountRows.join(',\n')}`);

  parts.push(
    `create or replace table invoices@${c} (division integer, invoicenumber integer, accountcode integer, invoicedate date, duedate date, amount decimal(12,2), vatamount decimal(12,2), currency varchar, status varchar, description varchar)`,
  );
  const invoiceRows: string[] = [];
  const start = Date.UTC(2026, 0, 1);
  for (const d of DIVISIONS) {
    const mine = accounts.filter((a) => a.division === d.code);
    let number = 26000001;
    for (let n = 0; n < 80; n++) {
      const account = pick(mine);
      const day = Math.floor(rnd() * 320);
      const date = new Date(start + day * 86400000);
      const due = new Date(date.getTime() + (rnd() < 0.5 ? 14 : 30) * 86400000);
      const amount = Math.round((50 + rnd() * rnd() * 9500) * 100) / 100;
      const vat = Math.round(amount * 0.21 * 100) / 100;
      const paid = day < 250 ? rnd() < 0.9 : rnd() < 0.3;
      const description = `${pick(ITEMS)} ${MONTHS[date.getUTCMonth()]} 2026`;
      invoiceRows.push(
        `(${d.code}, ${number++}, ${account.code}, date '${isoDate(date)}', date '${isoDate(due)}', ${amount.toFixed(2)}, ${vat.toFixed(2)}, 'EUR', '${paid ? 'paid' : 'open'}', ${quote(description)})`,
      );
    }
  }
  parts.push(
    `insert into invoices@${c} (division, invoicenumber, accountcode, invoicedate, duedate, amount, vatamount, currency, status, description) values\n${invoiceRows.join(',\n')}`,
  );
  return parts.join(';\n') + ';\n';
}

/** Create the demo tables in the session; their messages are not shown (the banner says what is there). */
export async function createDemoData(session: Session): Promise<void> {
  for await (const result of session.execute(demoScript())) {
    if (result.kind === 'rows') for await (const _ of result.batches) void _;
  }
}

