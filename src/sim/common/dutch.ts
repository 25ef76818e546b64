/**
 * Dutch-looking test data: company and person names, streets, postcodes
 * with their cities, phone numbers, e-mail addresses and IBANs with a valid
 * mod-97 check. Every generator takes an Rng so rows stay deterministic.
 * Generic: used by the Exact Online simulator and usable by the others.
 */
import type { Rng } from './prng.js';

export const FIRST_NAMES = [
  'Jan', 'Piet', 'Kees', 'Henk', 'Willem', 'Johan', 'Sander', 'Bas', 'Daan', 'Ruben', 'Thijs', 'Lars', 'Sem', 'Bram',
  'Anne', 'Marieke', 'Sanne', 'Lotte', 'Fleur', 'Eva', 'Iris', 'Femke', 'Noor', 'Sophie', 'Julia', 'Emma', 'Lieke',
  'Karel', 'Gerrit', 'Joost', 'Maarten', 'Wouter', 'Ingrid', 'Annelies', 'Yvonne', 'Mohammed', 'Fatima', 'Priya',
];
export const LAST_NAMES = [
  'de Jong', 'Jansen', 'de Vries', 'van den Berg', 'van Dijk', 'Bakker', 'Janssen', 'Visser', 'Smit', 'Meijer',
  'de Boer', 'Mulder', 'de Groot', 'Bos', 'Vos', 'Peters', 'Hendriks', 'van Leeuwen', 'Dekker', 'Brouwer', 'de Wit',
  'Dijkstra', 'Smits', 'de Graaf', 'van der Meer', 'van der Linden', 'Kok', 'Jacobs', 'de Haan', 'Vermeulen',
  'van den Heuvel', 'van der Veen', 'van den Broek', 'de Bruijn', 'de Bruin', 'van der Heijden', 'Schouten',
  'van Beek', 'Willems', 'van Vliet', 'van de Ven', 'Hoekstra', 'Maas', 'Verhoeven', 'Koster', 'van Dam', 'Pietersen',
];
const COMPANY_STEMS = [
  'Bloem', 'Molen', 'Dijk', 'Polder', 'Tulp', 'Haven', 'Gracht', 'Duin', 'Kaas', 'Fiets', 'Klomp', 'Zuivel', 'Bouw',
  'Tech', 'Data', 'Groen', 'Water', 'Zon', 'Wind', 'Noord', 'Zuid', 'Oost', 'West', 'Linde', 'Eik', 'Beuk', 'Hout',
  'Staal', 'Glas', 'Steen', 'Brug', 'Toren', 'Veld', 'Akker', 'Hof', 'Kade', 'Sluis', 'Delta', 'Kompas', 'Anker',
];
const COMPANY_TAILS = [
  'handel', 'bouw', 'techniek', 'advies', 'groep', 'service', 'transport', 'installatie', 'design', 'media',
  'logistiek', 'zorg', 'consult', 'makers', 'werk', 'fabriek', 'import', 'export', 'projecten', 'partners',
];
const LEGAL_FORMS = ['B.V.', 'B.V.', 'B.V.', 'V.O.F.', 'Holding B.V.', 'N.V.', ''];
/** Last names without their prefix ("de Vries" → "Vries"), for company names; computed once. */
const BARE_LAST_NAMES: readonly string[] = [];

/** [postcode digits prefix, city] pairs; the letters are generated. */
export const CITIES: readonly (readonly [number, string])[] = [
  [1011, 'Amsterdam'], [1055, 'Amsterdam'], [1211, 'Hilversum'], [1311, 'Almere'], [1501, 'Zaandam'],
  [1811, 'Alkmaar'], [2011, 'Haarlem'], [2311, 'Leiden'], [2511, 'Den Haag'], [2611, 'Delft'], [2801, 'Gouda'],
  [3011, 'Rotterdam'], [3311, 'Dordrecht'], [3511, 'Utrecht'], [3811, 'Amersfoort'], [4811, 'Breda'],
  [5038, 'Tilburg'], [5211, "'s-Hertogenbosch"], [5611, 'Eindhoven'], [6211, 'Maastricht'], [6511, 'Nijmegen'],
  [6811, 'Arnhem'], [7311, 'Apeldoorn'], [7511, 'Enschede'], [8011, 'Zwolle'], [8911, 'Leeuwarden'],
  [9711, 'Groningen'], [7411, 'Deventer'], [4331, 'Middelburg'], [3431, 'Nieuwegein'],
];
const STREETS = [
  'Kerkstraat', 'Dorpsstraat', 'Molenweg', 'Stationsweg', 'Schoolstraat', 'Hoofdstraat', 'Kastanjelaan', 'Julianalaan',
  'Beatrixlaan', 'Wilhelminastraat', 'Industrieweg', 'Nieuwe Gracht', 'Havenkade', 'Marktplein', 'Parallelweg',
  'Oranjelaan', 'Prinsengracht', 'Kanaalweg', 'Lindenlaan', 'Eikenlaan', 'Zuiderdiep', 'Noordsingel', 'Bosweg',
];
const BANKS = ['INGB', 'RABO', 'ABNA', 'SNSB', 'TRIO', 'ASNB', 'KNAB', 'BUNQ'];
// Postcode letters never use F, I, O, Q, U, Y; SA, SD and SS are not issued.
const POSTCODE_LETTERS = 'ABCDEGHJKLMNPRSTVWXZ';

export function personName(rng: Rng): { first: string; last: string; full: string; initials: string } {
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  return { first, last, full: `${first} ${last}`, initials: `${first.charAt(0)}.` };
}

/** Index of a uniform pick from n items: the same draw as `rng.pick`. */
function pickIndex(rng: Rng, n: number): number {
  return Math.floor(rng.next() * n);
}

/**
 * A company name as a small number (which parts were picked), drawn exactly
 * as `companyName` draws, so callers can cache what they derive from a name
 * (e-mail domain, search code) by number instead of hashing strings.
 */
export function companyCode(rng: Rng): number {
  const form = pickIndex(rng, LEGAL_FORMS.length);
  const style = rng.int(0, 3);
  let a = 0;
  let b = 0;
  if (style === 0) {
    a = pickIndex(rng, LAST_NAMES.length);
    b = pickIndex(rng, COMPANY_TAILS.length);
  } else if (style === 1) {
    a = pickIndex(rng, COMPANY_STEMS.length);
    b = pickIndex(rng, COMPANY_TAILS.length);
  } else if (style === 2) {
    a = pickIndex(rng, COMPANY_STEMS.length);
    b = pickIndex(rng, COMPANY_STEMS.length);
  } else {
    a = pickIndex(rng, LAST_NAMES.length);
  }
  return ((form * 4 + style) * 64 + a) * 64 + b;
}

const companyNames = new Map<number, string>();

/** The name a `companyCode` stands for (memoised: there are a few thousand). */
export function companyNameOf(code: number): string {
  let name = companyNames.get(code);
  if (name !== undefined) return name;
  const b = code % 64;
  const a = Math.floor(code / 64) % 64;
  const style = Math.floor(code / 4096) % 4;
  const form = LEGAL_FORMS[Math.floor(code / 16384)];
  if (BARE_LAST_NAMES.length === 0) {
    (BARE_LAST_NAMES as string[]).push(...LAST_NAMES.map((n) => n.replace(/^(de|van( de[nr]?)?) /, '')));
  }
  let base: string;
  if (style === 0) base = `${BARE_LAST_NAMES[a]} ${COMPANY_TAILS[b]}`;
  else if (style === 1) base = `${COMPANY_STEMS[a]}${COMPANY_TAILS[b]}`;
  else if (style === 2) base = `${COMPANY_STEMS[a]} & ${COMPANY_STEMS[b]}`;
  else base = `${BARE_LAST_NAMES[a]} en Zonen`;
  base = base.charAt(0).toUpperCase() + base.slice(1);
  name = form ? `${base} ${form}` : base;
  companyNames.set(code, name);
  return name;
}

export function companyName(rng: Rng): string {
  return companyNameOf(companyCode(rng));
}

export function address(rng: Rng): { street: string; houseNumber: string; line1: string; postcode: string; city: string } {
  const [digits, city] = rng.pick(CITIES);
  const d = digits + rng.int(0, 80);
  let letters = '';
  do {
    letters = POSTCODE_LETTERS.charAt(rng.int(0, POSTCODE_LETTERS.length - 1)) + POSTCODE_LETTERS.charAt(rng.int(0, POSTCODE_LETTERS.length - 1));
  } while (letters === 'SA' || letters === 'SD' || letters === 'SS');
  const street = rng.pick(STREETS);
  const houseNumber = String(rng.int(1, 250)) + (rng.chance(0.1) ? rng.pick(['a', 'b', '-1', '-2']) : '');
  return { street, houseNumber, line1: `${street} ${houseNumber}`, postcode: `${d} ${letters}`, city };
}

export function phone(rng: Rng): string {
  return rng.chance(0.5) ? `06-${rng.int(10000000, 99999999)}` : `0${rng.int(10, 79)}-${rng.int(1000000, 9999999)}`;
}

const domains = new Map<string, string>();

/** The e-mail domain for a company name (`Kadezorg B.V.` → `kadezorg.nl`); names repeat, so it is memoised. */
export function domainFor(company: string): string {
  let d = domains.get(company);
  if (d === undefined) {
    d = `${company.toLowerCase().replace(/\b(b\.?v\.?|n\.?v\.?|v\.?o\.?f\.?|holding)\b/g, '').replace(/[^a-z]+/g, '') || 'example'}.nl`;
    if (domains.size > 20_000) domains.clear();
    domains.set(company, d);
  }
  return d;
}

export function emailFor(name: string, domainHint: string): string {
  const local = name === 'info' ? 'info' : name.toLowerCase().replace(/[^a-z]+/g, '.').replace(/^\.|\.$/g, '');
  return `${local || 'info'}@${domainFor(domainHint)}`;
}

/** ISO 7064 mod 97-10 check digits for a country + BBAN. */
export function ibanCheckDigits(country: string, bban: string): string {
  const numeric = (bban + country + '00').replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rem = 0;
  for (const ch of numeric) rem = (rem * 10 + Number(ch)) % 97;
  return String(98 - rem).padStart(2, '0');
}

/** A Dutch IBAN with valid check digits, e.g. NL91ABNA0417164300. */
export function iban(rng: Rng): string {
  const bank = rng.pick(BANKS);
  let account = '';
  for (let i = 0; i < 10; i++) account += String(rng.int(0, 9));
  const bban = bank + account;
  return `NL${ibanCheckDigits('NL', bban)}${bban}`;
}

/** BIC and name of the Dutch banks in BANKS. */
const DUTCH_BANKS: Readonly<Record<string, readonly [string, string]>> = {
  INGB: ['INGBNL2A', 'ING Bank'], RABO: ['RABONL2U', 'Rabobank'], ABNA: ['ABNANL2A', 'ABN AMRO'], SNSB: ['SNSBNL2A', 'SNS'],
  TRIO: ['TRIONL2U', 'Triodos Bank'], ASNB: ['ASNBNL21', 'ASN Bank'], KNAB: ['KNABNL2H', 'Knab'], BUNQ: ['BUNQNL2A', 'bunq'],
};

/** Belgian bank codes (first three digits of the account) with BIC and name. */
const BELGIAN_BANKS: readonly (readonly [string, string, string])[] = [
  ['001', 'GEBABEBB', 'BNP Paribas Fortis'], ['310', 'BBRUBEBB', 'ING België'], ['734', 'KREDBEBB', 'KBC Bank'], ['068', 'GKCCBEBB', 'Belfius Bank'],
];

export interface BankAccountFacts {
  readonly iban: string;
  readonly bic: string;
  readonly bankName: string;
  readonly country: 'NL' | 'BE';
}

/**
 * A bank account with a valid IBAN: Dutch (`NLkk BANK 0123456789`) or, for
 * a share of `belgianShare`, Belgian (`BEkk 123 4567890 cc`, whose last two
 * digits are the first ten mod 97, 97 for 0), with the bank's BIC.
 */
export function bankAccount(rng: Rng, belgianShare = 0.1): BankAccountFacts {
  if (rng.chance(belgianShare)) {
    const [code, bic, bankName] = rng.pick(BELGIAN_BANKS);
    let body = code;
    for (let i = 0; i < 7; i++) body += String(rng.int(0, 9));
    const check = Number(BigInt(body) % 97n) || 97;
    const bban = body + String(check).padStart(2, '0');
    return { iban: `BE${ibanCheckDigits('BE', bban)}${bban}`, bic, bankName, country: 'BE' };
  }
  const v = iban(rng);
  const [bic, bankName] = DUTCH_BANKS[v.slice(4, 8)] ?? ['', ''];
  return { iban: v, bic, bankName, country: 'NL' };
}

/** Whether an IBAN's check digits are valid. */
export function isValidIban(value: string): boolean {
  const v = value.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(v)) return false;
  return ibanCheckDigits(v.slice(0, 2), v.slice(4)) === v.slice(2, 4);
}

/** A Dutch VAT number (format only): NL + 9 digits + B + 2 digits. */
export function vatNumber(rng: Rng): string {
  return `NL${rng.int(100000000, 999999999)}B${String(rng.int(1, 99)).padStart(2, '0')}`;
}

/** A KvK (chamber of commerce) number: 8 digits. */
export function kvkNumber(rng: Rng): string {
  return String(rng.int(10000000, 99999999));
}

/** The last Sunday of a month (0-based) at 01:00 UTC: when EU summer time starts or ends. */
function euSwitch(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0, 1));
  return last.getTime() - last.getUTCDay() * 86_400_000;
}

/**
 * Amsterdam's offset from UTC at an instant, in ms: +2 h in EU summer time
 * (last Sunday of March 01:00 UTC to last Sunday of October 01:00 UTC), +1 h
 * otherwise.
 */
export function amsterdamOffsetMs(utcMs: number): number {
  const year = new Date(utcMs).getUTCFullYear();
  return utcMs >= euSwitch(year, 2) && utcMs < euSwitch(year, 9) ? 7_200_000 : 3_600_000;
}
