/**
 * The Exact Online container: the catalog as tables, the user's divisions as
 * partitions, `plan` (see planner.ts), `scan` per division through the one
 * HTTP client, and `write` (see write.ts). Several containers of the same app
 * in one process share the token store and the rate governor.
 */
import { setMaxListeners } from 'node:events';
import type { ExactCatalog, ExactEndpoint } from '../../catalogs/exactonline.js';
import type {
  Container,
  Partition,
  ProviderEnv,
  RowBatch,
  RowResult,
  ScanContext,
  ScanPlan,
  ScanRequest,
  TableInfo,
  Value,
  WriteRequest,
} from '../../provider/types.js';
import { SluiceError } from '../../util/errors.js';
import type { ExactConfig } from './config.js';
import { budgetFile, governorFor, loadBudgets, saveBudgets, type RateGovernor } from './governor.js';
import { ExactHttp, parseCollection, type Entity } from './http.js';
import { TokenManager } from './oauth.js';
import { divisionHolds, planScan, type ExactPlanDetail } from './planner.js';
import { rateLimitsTable, readOnce, tableInfo } from './tables.js';
import { TokenStore } from './token-store.js';
import { readValue } from './values.js';
import { writeRows } from './write.js';

export const PROVIDER_NAME = 'ExactOnlineAll';

export class ExactContainer implements Container {
  readonly providerName = PROVIDER_NAME;
  readonly tokens: TokenManager;
  readonly governor: RateGovernor;
  readonly http: ExactHttp;
  private readonly tableList: readonly TableInfo[];
  private readonly learned = new Map<string, { rows: number; scans: number }>();
  private me: Promise<Entity> | undefined;
  private partitionList: Promise<readonly Partition[]> | undefined;
  private dailyShare: number;
  private readonly budgetFile: string;
  private saving: Promise<void> | undefined;
  private saveAgain = false;

  constructor(
    readonly config: ExactConfig,
    readonly env: ProviderEnv,
    readonly catalog: ExactCatalog,
  ) {
    const store = new TokenStore({
      dataDir: env.dataDir,
      apiUrl: config.apiUrl,
      clientId: config.clientId,
      user: config.user,
      secrets: env.secrets,
      clock: env.clock,
    });
    const log = (c: { method: string; url: string; status: number; ms: number; bytes: number; error?: string }) =>
      env.log.record({ at: env.clock.now(), container: config.alias, rows: 0, ...c });
    this.tokens = new TokenManager(store, config, env.clock, log);
    this.governor = governorFor(config.apiUrl, config.clientId, env.clock);
    this.http = new ExactHttp({ alias: config.alias, clock: env.clock, log: env.log, tokens: this.tokens, governor: this.governor, maxConcurrent: config.parallelism });
    this.tableList = [...catalog.endpoints.map(tableInfo), rateLimitsTable()];
    this.dailyShare = Number(env.settings['exact-daily-budget-share'] ?? config.dailyBudgetShare);
    // Budgets an earlier process saw: a fresh process enforces the daily share before its first response.
    this.budgetFile = budgetFile(env.dataDir, config.apiUrl, config.clientId);
    this.governor.restore(loadBudgets(this.budgetFile));
  }

  /** Persist the daily budgets seen, for the next process (knowledge only; never fails). */
  saveBudgets(): Promise<void> {
    return saveBudgets(this.budgetFile, this.governor);
  }

  /** Save after a scan without holding it up; saves that overlap coalesce into one more. */
  private persistSoon(): void {
    if (this.saving) {
      this.saveAgain = true;
      return;
    }
    this.saving = this.saveBudgets().finally(() => {
      this.saving = undefined;
      if (this.saveAgain) {
        this.saveAgain = false;
        this.persistSoon();
      }
    });
  }

  get alias(): string {
    return this.config.alias;
  }

  tables(): readonly TableInfo[] {
    return this.tableList;
  }

  endpointOf(table: TableInfo): ExactEndpoint {
    const e = this.catalog.endpoints.find((x) => x.table === table.name);
    if (!e) throw new SluiceError('EOL070', `Table ${table.name} is not in the Exact Online catalog.`, { container: this.alias, table: table.name });
    return e;
  }

  setOption(name: string, value: string): boolean {
    if (name.toLowerCase() === 'exact-daily-budget-share') {
      const n = Number(value);
      if (!(n > 0 && n <= 1)) throw new SluiceError('EOL080', `exact-daily-budget-share must be a number in (0, 1], not ${value}.`, { container: this.alias });
      this.dailyShare = n;
      return true;
    }
    return false;
  }

  private share(): number {
    const s = Number(this.env.settings['exact-daily-budget-share'] ?? this.dailyShare);
    return s > 0 && s <= 1 ? s : this.dailyShare;
  }

  /** `current/Me`: the user and the current division (cached per container). */
  currentUser(signal?: AbortSignal): Promise<Entity> {
    this.me ??= this.http
      .call('GET', `${this.config.apiUrl}/api/v1/current/Me`, { division: 'current', endpoint: 'current/Me', signal, table: 'Me' })
      .then((r) => {
        const row = parseCollection(r.json).rows[0];
        if (!row) throw new SluiceError('EOL081', 'Exact Online answered current/Me without a user.', { container: this.alias });
        return row;
      });
    this.me.catch(() => {
      this.me = undefined;
    });
    return this.me;
  }

  async currentDivision(signal?: AbortSignal): Promise<string> {
    const me = await this.currentUser(signal);
    const d = me['CurrentDivision'];
    if (d === null || d === undefined) throw new SluiceError('EOL082', 'The Exact Online user has no current division.', { container: this.alias });
    return String(d);
  }

  partitions(signal: AbortSignal): Promise<readonly Partition[]> {
    this.partitionList ??= this.loadPartitions(signal);
    this.partitionList.catch(() => {
      this.partitionList = undefined;
    });
    return this.partitionList;
  }

  private async loadPartitions(signal: AbortSignal): Promise<readonly Partition[]> {
    const current = await this.currentDivision(signal);
    const select = 'Code,Description,Customer,CustomerCode,CustomerName,Status,BlockingStatus';
    const out: Partition[] = [];
    for await (const page of this.http.pages(`${this.config.apiUrl}/api/v1/${current}/system/Divisions?$select=${select}`, {
      division: current,
      endpoint: 'system/Divisions',
      signal,
      table: 'SystemDivisions',
    })) {
      for (const d of page) {
        const code = String(d['Code']);
        const status = Number(d['Status'] ?? 1);
        const blocking = Number(d['BlockingStatus'] ?? 0);
        out.push({
          id: code,
          label: typeof d['Description'] === 'string' ? d['Description'] : undefined,
          group: typeof d['Customer'] === 'string' ? d['Customer'].toLowerCase() : undefined,
          isDefault: code === current,
          state: blocking > 0 ? 'blocked' : status === 0 ? 'inactive' : status === 2 ? 'archived' : 'available',
        });
      }
    }
    if (!out.some((p) => p.id === current)) out.push({ id: current, isDefault: true, state: 'available' });
    return out;
  }

  learnedRows(url: string): number | undefined {
    const l = this.learned.get(url);
    return l ? Math.round(l.rows / l.scans) : undefined;
  }

  private budgetWarnings(est: number): string[] {
    const share = this.share();
    const out: string[] = [];
    for (const s of this.governor.snapshot()) {
      const rem = this.governor.dailyRemaining(s.division);
      if (rem !== undefined && est > share * rem) {
        out.push(`  warning: division ${s.division} has ${rem} calls left today; ${est} would exceed the ${Math.round(share * 100)}% share (exact-daily-budget-share)`);
      }
    }
    return out;
  }

  plan(table: TableInfo, request: ScanRequest): ScanPlan {
    return planScan(
      {
        alias: this.alias,
        apiUrl: this.config.apiUrl,
        catalog: this.catalog,
        learnedRows: (url) => this.learnedRows(url),
        budgetWarnings: (est) => this.budgetWarnings(est),
      },
      table,
      request,
    );
  }

  async *scan(plan: ScanPlan, partition: Partition | undefined, context: ScanContext): AsyncIterable<RowBatch> {
    try {
      yield* this.scanPartition(plan, partition, context);
    } finally {
      if ((plan.detail as ExactPlanDetail).mode !== 'ratelimits') this.persistSoon();
    }
  }

  private async *scanPartition(plan: ScanPlan, partition: Partition | undefined, context: ScanContext): AsyncIterable<RowBatch> {
    // One statement's signal is shared by every partition's calls in flight (and their waits): not a leak.
    setMaxListeners(0, context.signal);
    const detail = plan.detail as ExactPlanDetail;
    const columns = detail.output.map((o) => o.name);
    if (detail.mode === 'ratelimits') {
      yield { columns, rows: this.rateLimitRows(columns) };
      return;
    }
    const e = detail.endpoint as ExactEndpoint;
    let division = partition?.id ?? (e.needsDivision || plan.table.partitionColumn ? await this.currentDivision(context.signal) : 'current');
    if (readOnce(e)) {
      // No division in the URL: every division gets the same rows (the current
      // division's subscription). Read them once, labelled with the current division.
      const current = await this.currentDivision(context.signal);
      if (partition && partition.id !== current) return;
      division = current;
    }
    const divNumber = Number(division);
    if (detail.divisionPredicates.some((p) => !divisionHolds(p, divNumber))) return;
    const budgetKey = e.needsDivision ? division : partition?.id ?? 'current';
    const share = this.share();
    const remainingAtStart = this.governor.dailyRemaining(budgetKey);
    if (remainingAtStart !== undefined && plan.estimatedCallsPerPartition > share * remainingAtStart) {
      throw new SluiceError(
        'EOL042',
        `Reading ${plan.table.name} would take about ${plan.estimatedCallsPerPartition} calls in division ${division}, more than ${Math.round(share * 100)}% of the ${remainingAtStart} calls left today.`,
        { container: this.alias, table: plan.table.name, partition: division, hint: 'Narrow the query, or raise exact-daily-budget-share.' },
      );
    }
    let calls = 0;
    // Until a response (or the budget file) tells the remaining budget, only
    // the first call is made blind; once headers arrive, the budget at the
    // start is what remains now plus the calls already made.
    let startRemaining = remainingAtStart;
    const onCall = () => {
      calls++;
      context.progress?.({ calls: 1 });
      if (startRemaining === undefined) {
        const now = this.governor.dailyRemaining(budgetKey);
        if (now !== undefined) {
          startRemaining = now + (calls - 1);
          // The check a known budget makes before the first call, made as soon as it is known.
          if (plan.estimatedCallsPerPartition > share * startRemaining) {
            throw new SluiceError(
              'EOL042',
              `Reading ${plan.table.name} would take about ${plan.estimatedCallsPerPartition} calls in division ${division}, more than ${Math.round(share * 100)}% of the ${startRemaining} calls left today (stopped after the first call, which told the budget).`,
              { container: this.alias, table: plan.table.name, partition: division, hint: 'Narrow the query, or raise exact-daily-budget-share.' },
            );
          }
        }
        // No headers after a call: the server states no budget, and there is nothing to enforce.
      }
      if (startRemaining !== undefined && calls > Math.max(plan.estimatedCallsPerPartition, share * startRemaining)) {
        throw new SluiceError('EOL043', `Stopped reading ${plan.table.name} in division ${division}: it used ${calls - 1} calls, the ${Math.round(share * 100)}% share of the ${startRemaining} calls left today when it started.`, {
          container: this.alias,
          table: plan.table.name,
          partition: division,
          hint: 'Narrow the query, or raise exact-daily-budget-share.',
        });
      }
    };
    const base = e.needsDivision ? `${this.config.apiUrl}/api/v1/${e.url.startsWith('beta/') ? `beta/${division}/${e.url.slice(5)}` : `${division}/${e.url}`}` : `${this.config.apiUrl}/api/v1/${e.url}`;
    const url = base + (detail.pathAndQuery as string).slice(e.url.length);
    const opts = { division: budgetKey, endpoint: e.url, signal: context.signal, table: plan.table.name, onCall };
    const sources = detail.output.map((o) => o.source);
    const divisionIndex = plan.table.partitionColumn ? columns.indexOf(plan.table.partitionColumn) : -1;
    const toRow = (ent: Entity): Value[] => {
      const lower = new Map<string, unknown>();
      const row = detail.output.map((o, i) => {
        if (i === divisionIndex && (ent[o.name] === undefined || ent[o.name] === null)) return Number.isNaN(divNumber) ? division : divNumber;
        let v = ent[o.name];
        if (v === undefined) {
          if (lower.size === 0) for (const k of Object.keys(ent)) lower.set(k.toLowerCase(), ent[k]);
          v = lower.get(o.name.toLowerCase()) as typeof v;
        }
        return readValue(sources[i], v);
      });
      return row;
    };
    let rows = 0;
    if (detail.mode === 'key') {
      let res;
      try {
        res = await this.http.call('GET', url, opts);
      } catch (err) {
        if (err instanceof SluiceError && err.details.status === 404) return;
        throw err;
      }
      const found = parseCollection(res.json).rows;
      context.progress?.({ rows: found.length });
      if (found.length > 0) yield { columns, rows: found.map(toRow) };
      return;
    }
    for await (const page of this.http.pages(url, opts)) {
      rows += page.length;
      context.progress?.({ rows: page.length });
      if (page.length > 0) yield { columns, rows: page.map(toRow) };
    }
    if (!plan.request.conjuncts.length && !plan.limitApplied) {
      const l = this.learned.get(e.url) ?? { rows: 0, scans: 0 };
      this.learned.set(e.url, { rows: l.rows + rows, scans: l.scans + 1 });
    }
  }

  private rateLimitRows(columns: readonly string[]): Value[][] {
    const date = (n: number | undefined) => (n === undefined ? null : new Date(n));
    return this.governor.snapshot().map((s) => {
      const rec: Record<string, Value> = {
        Division: s.division === 'current' ? 0 : Number(s.division),
        MinutelyLimit: s.minutelyLimit ?? null,
        MinutelyRemaining: s.minutelyRemaining ?? null,
        MinutelyReset: date(s.minutelyReset),
        DailyLimit: s.dailyLimit ?? null,
        DailyRemaining: s.dailyRemaining ?? null,
        DailyReset: date(s.dailyReset),
        LastSeen: date(s.lastSeen),
        Calls: s.calls,
        Throttled: s.throttled,
        ErrorsThisHour: s.errorsThisHour,
      };
      return columns.map((c) => rec[c] ?? null);
    });
  }

  write(table: TableInfo, request: WriteRequest): AsyncIterable<RowResult> {
    return writeRows(this, table, request);
  }

  async close(): Promise<void> {
    this.saveAgain = false;
    await this.saving;
    await this.saveBudgets();
    await this.http.close();
  }
}
