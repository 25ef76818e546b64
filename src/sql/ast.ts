/**
 * The typed, readonly syntax tree of the Sluice SQL dialect.
 *
 * Produced by the parser (sql/parser.ts), printed back to Sluice SQL by
 * sql/printer.ts, bound by engine/binder.ts and printed to DuckDB SQL by the
 * engine. It is the only currency downstream of the parser: nothing re-parses
 * SQL text. The OData server builds these nodes directly from query options.
 *
 * Conventions:
 * - every node has a `kind` discriminator;
 * - identifiers are plain strings as the user wrote them (without quotes);
 *   all name matching is case-insensitive, so no quoting flag is kept;
 *   printers quote a name when it is not a plain identifier or is a keyword;
 * - `span` is set by the parser and optional for nodes built in code.
 */

export interface Position {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** 0-based offset into the script text. */
  readonly offset: number;
}

export interface Span {
  readonly start: Position;
  readonly end: Position;
}

interface NodeBase {
  readonly span?: Span;
}

// ---------------------------------------------------------------------------
// Names

/**
 * A table name as written: `t`, `s.t`, `c.s.t`, `c..t` (catalog and name,
 * schema left out), each optionally followed by `@container`.
 */
export interface TableName extends NodeBase {
  readonly kind: 'TableName';
  readonly catalog?: string;
  readonly schema?: string;
  readonly name: string;
  /** The data container alias after `@`, e.g. `eolnl` in `accounts@eolnl`. */
  readonly container?: string;
}

/** A SQL type as written: `varchar(50)`, `number(10, 2)`, `date`. Name lower-cased. */
export interface TypeName extends NodeBase {
  readonly kind: 'TypeName';
  readonly name: string;
  readonly args: readonly number[];
}

// ---------------------------------------------------------------------------
// Expressions

export type Expr =
  | Literal
  | IntervalLiteral
  | ColumnRef
  | Star
  | Parameter
  | Unary
  | Binary
  | Like
  | Between
  | InList
  | InSubquery
  | IsNull
  | Exists
  | ScalarSubquery
  | FunctionCall
  | Case
  | Cast;

/**
 * A literal. `value` is the canonical text: numbers as written (`12.50`),
 * strings without quotes and with `''` unescaped, booleans `true`/`false`,
 * dates `YYYY-MM-DD`, timestamps `YYYY-MM-DD HH:MM:SS[.fff]`; null has value ''.
 */
export interface Literal extends NodeBase {
  readonly kind: 'Literal';
  readonly type: 'number' | 'string' | 'boolean' | 'null' | 'date' | 'timestamp';
  readonly value: string;
}

export type IntervalUnit = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second';

/** `interval '3' day`, `interval '1' year`. */
export interface IntervalLiteral extends NodeBase {
  readonly kind: 'IntervalLiteral';
  readonly value: string;
  readonly unit: IntervalUnit;
}

/** `code`, `a.code`, `s.t.code`: `name` is the column, `qualifier` what precedes it. */
export interface ColumnRef extends NodeBase {
  readonly kind: 'ColumnRef';
  readonly qualifier: readonly string[];
  readonly name: string;
}

/** `*` or `a.*` in a select list; also the argument of `count(*)` is flagged on FunctionCall instead. */
export interface Star extends NodeBase {
  readonly kind: 'Star';
  readonly qualifier: readonly string[];
}

/** A bind parameter `:name` (used by the server and the API, not typical in scripts). */
export interface Parameter extends NodeBase {
  readonly kind: 'Parameter';
  readonly name: string;
}

export interface Unary extends NodeBase {
  readonly kind: 'Unary';
  readonly op: '-' | '+' | 'not';
  readonly operand: Expr;
}

export type ComparisonOp = '=' | '<>' | '<' | '<=' | '>' | '>=';
export type ArithmeticOp = '+' | '-' | '*' | '/' | '%';
export type BinaryOp = ComparisonOp | ArithmeticOp | '||' | 'and' | 'or';

export interface Binary extends NodeBase {
  readonly kind: 'Binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
}

/** `x [not] like p [escape e]`; `ilike` sets caseInsensitive. */
export interface Like extends NodeBase {
  readonly kind: 'Like';
  readonly expr: Expr;
  readonly pattern: Expr;
  readonly escape?: Expr;
  readonly not: boolean;
  readonly caseInsensitive: boolean;
}

export interface Between extends NodeBase {
  readonly kind: 'Between';
  readonly expr: Expr;
  readonly low: Expr;
  readonly high: Expr;
  readonly not: boolean;
}

export interface InList extends NodeBase {
  readonly kind: 'InList';
  readonly expr: Expr;
  readonly list: readonly Expr[];
  readonly not: boolean;
}

export interface InSubquery extends NodeBase {
  readonly kind: 'InSubquery';
  readonly expr: Expr;
  readonly query: Query;
  readonly not: boolean;
}

export interface IsNull extends NodeBase {
  readonly kind: 'IsNull';
  readonly expr: Expr;
  readonly not: boolean;
}

export interface Exists extends NodeBase {
  readonly kind: 'Exists';
  readonly query: Query;
  readonly not: boolean;
}

export interface ScalarSubquery extends NodeBase {
  readonly kind: 'ScalarSubquery';
  readonly query: Query;
}

export interface WindowFrameBound {
  readonly kind: 'unboundedPreceding' | 'preceding' | 'currentRow' | 'following' | 'unboundedFollowing';
  /** For `n preceding` / `n following`. */
  readonly offset?: Expr;
}

export interface WindowSpec extends NodeBase {
  readonly partitionBy: readonly Expr[];
  readonly orderBy: readonly OrderItem[];
  readonly frame?: {
    readonly unit: 'rows' | 'range';
    readonly start: WindowFrameBound;
    readonly end?: WindowFrameBound;
  };
}

/**
 * A function call. `name` is lower-cased and may be qualified (`pkg.fn` → 'pkg.fn').
 * `count(*)` has star = true and no args. `over` makes it a window function.
 */
export interface FunctionCall extends NodeBase {
  readonly kind: 'FunctionCall';
  readonly name: string;
  readonly args: readonly Expr[];
  readonly distinct: boolean;
  readonly star: boolean;
  readonly filter?: Expr;
  /** `within group (order by …)` of an ordered-set aggregate such as listagg. */
  readonly withinGroup?: readonly OrderItem[];
  readonly over?: WindowSpec;
}

/** Searched (`case when c then r … end`) or simple (`case x when v then r … end`). */
export interface Case extends NodeBase {
  readonly kind: 'Case';
  readonly operand?: Expr;
  readonly whens: readonly { readonly when: Expr; readonly then: Expr }[];
  readonly else?: Expr;
}

export interface Cast extends NodeBase {
  readonly kind: 'Cast';
  readonly expr: Expr;
  readonly type: TypeName;
}

// ---------------------------------------------------------------------------
// Queries

export interface OrderItem extends NodeBase {
  readonly expr: Expr;
  readonly descending: boolean;
  /** undefined: the default (Oracle: nulls last ascending, first descending). */
  readonly nulls?: 'first' | 'last';
}

export interface SelectItem extends NodeBase {
  readonly expr: Expr;
  readonly alias?: string;
}

export interface Cte extends NodeBase {
  readonly name: string;
  readonly columns: readonly string[];
  readonly query: Query;
}

/** A full query: optional WITH, a body, then ORDER BY / LIMIT / OFFSET that apply to the body. */
export interface Query extends NodeBase {
  readonly kind: 'Query';
  readonly with: readonly Cte[];
  readonly body: QueryBody;
  readonly orderBy: readonly OrderItem[];
  readonly limit?: Expr;
  readonly offset?: Expr;
}

export type QueryBody = SelectCore | SetOperation | Query;

export interface SelectCore extends NodeBase {
  readonly kind: 'Select';
  readonly distinct: boolean;
  /** `select top n …` */
  readonly top?: Expr;
  readonly items: readonly SelectItem[];
  /** Comma-separated FROM items (each may be a join tree). Empty for `select 1`. */
  readonly from: readonly FromItem[];
  readonly where?: Expr;
  readonly groupBy: readonly Expr[];
  readonly having?: Expr;
}

/** `union [all]`, `intersect`, `minus` (also accepted as `except`). */
export interface SetOperation extends NodeBase {
  readonly kind: 'SetOperation';
  readonly op: 'union' | 'intersect' | 'minus';
  readonly all: boolean;
  readonly left: QueryBody;
  readonly right: QueryBody;
}

export type FromItem = TableRef | DerivedTable | TableFunction | Join;

export interface TableRef extends NodeBase {
  readonly kind: 'TableRef';
  readonly name: TableName;
  readonly alias?: string;
}

export interface DerivedTable extends NodeBase {
  readonly kind: 'DerivedTable';
  readonly query: Query;
  readonly alias?: string;
  readonly columnAliases: readonly string[];
}

/** A table-valued function: `read_csv('x.csv')@files`, `csvtable(…)`. */
export interface TableFunction extends NodeBase {
  readonly kind: 'TableFunction';
  readonly name: TableName;
  readonly args: readonly Expr[];
  readonly alias?: string;
}

export type JoinType = 'inner' | 'left' | 'right' | 'full' | 'cross';

export interface Join extends NodeBase {
  readonly kind: 'Join';
  readonly type: JoinType;
  readonly left: FromItem;
  readonly right: FromItem;
  readonly on?: Expr;
  readonly using: readonly string[];
}

// ---------------------------------------------------------------------------
// Statements

export type Statement =
  | QueryStatement
  | UseStatement
  | SetStatement
  | CreateTableStatement
  | DropTableStatement
  | InsertStatement
  | UpdateStatement
  | DeleteStatement
  | ExplainStatement
  | SynchronizeStatement;

export interface QueryStatement extends NodeBase {
  readonly kind: 'QueryStatement';
  readonly query: Query;
}

/**
 * One item of `use`: a partition code (optionally `@container`), `all`,
 * `default` (optionally `@container`), or a query whose first column gives
 * partition codes and optional second column the container alias.
 */
export type UseItem =
  | { readonly kind: 'code'; readonly code: string; readonly container?: string; readonly span?: Span }
  | { readonly kind: 'all'; readonly container?: string; readonly span?: Span }
  | { readonly kind: 'default'; readonly container?: string; readonly span?: Span }
  | { readonly kind: 'query'; readonly query: Query; readonly span?: Span };

export interface UseStatement extends NodeBase {
  readonly kind: 'Use';
  readonly items: readonly UseItem[];
}

/** `set name value` / `set name@container value`. `value` is the literal's value or the bare word. */
export interface SetStatement extends NodeBase {
  readonly kind: 'Set';
  readonly name: string;
  readonly container?: string;
  readonly value: string;
}

export interface ColumnDef extends NodeBase {
  readonly name: string;
  readonly type: TypeName;
  readonly notNull: boolean;
  readonly primaryKey: boolean;
}

/** `create [or replace] table t@c as select …` or `create table t@c (col type, …)`. */
export interface CreateTableStatement extends NodeBase {
  readonly kind: 'CreateTable';
  readonly orReplace: boolean;
  readonly ifNotExists: boolean;
  readonly name: TableName;
  readonly columns: readonly ColumnDef[];
  readonly query?: Query;
}

export interface DropTableStatement extends NodeBase {
  readonly kind: 'DropTable';
  readonly ifExists: boolean;
  readonly name: TableName;
}

export type InsertSource =
  | { readonly kind: 'Values'; readonly rows: readonly (readonly Expr[])[] }
  | { readonly kind: 'Query'; readonly query: Query };

export interface InsertStatement extends NodeBase {
  readonly kind: 'Insert';
  readonly table: TableName;
  /** Empty: all columns in table order. */
  readonly columns: readonly string[];
  readonly source: InsertSource;
}

export interface Assignment extends NodeBase {
  readonly column: string;
  readonly value: Expr;
}

export interface UpdateStatement extends NodeBase {
  readonly kind: 'Update';
  readonly table: TableName;
  readonly alias?: string;
  readonly assignments: readonly Assignment[];
  readonly where?: Expr;
}

export interface DeleteStatement extends NodeBase {
  readonly kind: 'Delete';
  readonly table: TableName;
  readonly alias?: string;
  readonly where?: Expr;
}

export interface ExplainStatement extends NodeBase {
  readonly kind: 'Explain';
  readonly statement: Statement;
}

export type SyncAction = 'insert' | 'update' | 'delete';

/** `insert exit after 100 rows`: stop quietly (exit) or fail (error) once more than `rows` would be changed. */
export interface SyncActionClause extends NodeBase {
  readonly action: SyncAction;
  readonly cap?: { readonly mode: 'exit' | 'error'; readonly rows: number };
}

/**
 * `synchronize SOURCE to TARGET` or `synchronize TARGET from SOURCE`; the parser
 * normalises both to source/target and records which form was written.
 */
export interface SynchronizeStatement extends NodeBase {
  readonly kind: 'Synchronize';
  readonly source: TableName;
  readonly target: TableName;
  readonly direction: 'to' | 'from';
  readonly actions: readonly SyncActionClause[];
  readonly identifiedBy: readonly string[];
  readonly ignoreChanges: readonly string[];
  readonly ignoreNulls: boolean;
  /** `continue on first N errors`. */
  readonly continueOnErrors?: number;
}

/** A parsed script: its statements in order, with the source text for error reporting. */
export interface Script {
  readonly statements: readonly Statement[];
  readonly text: string;
}
