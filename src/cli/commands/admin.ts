/**
 * `sluice admin …`: manage the server's tenants in its state store (the JSON
 * file in the sluice home, or PostgreSQL when SLUICE_STATE_URL is set) —
 * users and service accounts, databases with containers and startup SQL,
 * grants, API tokens. Secrets given here are sealed before they are stored;
 * tokens are printed once and only their hash is kept.
 */
import type { Command } from 'commander';
import { openSetup } from '../../server/setup.js';
import type { ServerSetup } from '../../server/setup.js';
import { shownOptions } from '../../server/tenancy.js';
import { SluiceError } from '../../util/errors.js';

export interface AdminIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Opens the state; tests pass their own. */
  readonly setup?: () => ServerSetup;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function intOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new SluiceError('CLI001', `${name} must be a whole number, not "${text}".`);
  return Number(text);
}

export function registerAdmin(program: Command, io: AdminIo = { stdout: process.stdout, stdin: process.stdin, env: process.env }): void {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  /** Run one admin action against the state, closing the store afterwards. */
  const withState = async (body: (s: ServerSetup) => Promise<void>): Promise<void> => {
    const setup = io.setup ? io.setup() : openSetup(io.env);
    try {
      await body(setup);
    } finally {
      await setup.store.close();
    }
  };
  const password = async (flags: { password?: string; passwordStdin?: boolean }): Promise<string> => {
    if (flags.password !== undefined) return flags.password;
    if (flags.passwordStdin) return readStdin(io.stdin);
    throw new SluiceError('CLI001', 'Give the password with --password-stdin (preferred: stays out of shell history) or --password.');
  };

  const admin = program.command('admin').description('manage server users, databases, grants and API tokens');

  const user = admin.command('user').description('users (people) and service accounts');
  user
    .command('add <name>')
    .description('add a user; --service for a service account that logs in with tokens only')
    .option('--password <password>', 'the password (prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--service', 'a service account (no password; use `admin token create`)')
    .action(async (name: string, flags: { password?: string; passwordStdin?: boolean; service?: boolean }) => {
      const pw = flags.service ? undefined : await password(flags);
      await withState(async (s) => {
        await s.tenancy.addUser(name, { ...(pw !== undefined ? { password: pw } : {}), service: flags.service === true });
        out(`User ${name} added${flags.service ? ' (service account)' : ''}.`);
      });
    });
  user
    .command('list')
    .description('list users with their kind and granted databases')
    .action(async () => {
      await withState(async (s) => {
        for (const u of await s.tenancy.listUsers()) out(`${u.name}\t${u.kind}\t${u.databases.join(', ') || '-'}`);
      });
    });
  user
    .command('remove <name>')
    .description('remove a user with their grants and tokens')
    .action(async (name: string) => {
      await withState(async (s) => {
        await s.tenancy.removeUser(name);
        out(`User ${name} removed.`);
      });
    });
  user
    .command('passwd <name>')
    .description("change a user's password")
    .option('--password <password>', 'the new password (prefer --password-stdin)')
    .option('--password-stdin', 'read the new password from standard input')
    .action(async (name: string, flags: { password?: string; passwordStdin?: boolean }) => {
      const pw = await password(flags);
      await withState(async (s) => {
        await s.tenancy.setPassword(name, pw);
        out(`Password of ${name} changed.`);
      });
    });

  const database = admin.command('database').description('databases: one per end customer, each with its containers and startup SQL');
  database
    .command('add <name>')
    .description('add a database')
    .option('--startup-sql <sql>', 'SQL run when a session opens, e.g. "use 123@eol, 456@eol"')
    .option('--cache-max-age <seconds>', 'keep responses this long (0: no cache)')
    .option('--page-size <rows>', 'rows per OData page for this database')
    .action(async (name: string, flags: { startupSql?: string; cacheMaxAge?: string; pageSize?: string }) => {
      const cache = intOption('--cache-max-age', flags.cacheMaxAge);
      const page = intOption('--page-size', flags.pageSize);
      await withState(async (s) => {
        await s.tenancy.addDatabase(name, {
          ...(flags.startupSql ? { startupSql: flags.startupSql } : {}),
          ...(cache !== undefined ? { cacheMaxAgeSeconds: cache } : {}),
          ...(page !== undefined ? { pageSize: page } : {}),
        });
        out(`Database ${name} added. Feed: /${name}/odata4/`);
      });
    });
  database
    .command('list')
    .description('list databases with their containers (secrets hidden) and startup SQL')
    .action(async () => {
      await withState(async (s) => {
        for (const d of await s.tenancy.listDatabases()) {
          out(d.name);
          for (const c of d.containers) out(`  container ${c.alias}: ${c.provider} ${shownOptions(c)}`);
          if (d.startupSql) out(`  startup sql: ${d.startupSql.split('\n').join('\n               ')}`);
          if (d.cacheMaxAgeSeconds) out(`  cache max age: ${d.cacheMaxAgeSeconds} s`);
          if (d.pageSize) out(`  page size: ${d.pageSize}`);
        }
      });
    });
  database
    .command('remove <name>')
    .description('remove a database and its grants')
    .action(async (name: string) => {
      await withState(async (s) => {
        await s.tenancy.removeDatabase(name);
        out(`Database ${name} removed.`);
      });
    });
  database
    .command('set-startup-sql <name> <sql>')
    .description('set the SQL run when a session for the database opens ("-" reads it from standard input)')
    .action(async (name: string, sql: string) => {
      const text = sql === '-' ? await readStdin(io.stdin) : sql;
      await withState(async (s) => {
        await s.tenancy.setStartupSql(name, text);
        out(`Startup SQL of ${name} set.`);
      });
    });
  database
    .command('set <name>')
    .description('change cache max age or page size')
    .option('--cache-max-age <seconds>', 'keep responses this long (0: no cache)')
    .option('--page-size <rows>', 'rows per OData page')
    .action(async (name: string, flags: { cacheMaxAge?: string; pageSize?: string }) => {
      const cache = intOption('--cache-max-age', flags.cacheMaxAge);
      const page = intOption('--page-size', flags.pageSize);
      await withState(async (s) => {
        await s.tenancy.setDatabaseOptions(name, { ...(cache !== undefined ? { cacheMaxAgeSeconds: cache } : {}), ...(page !== undefined ? { pageSize: page } : {}) });
        out(`Database ${name} changed.`);
      });
    });

  const container = admin.command('container').description('data containers of a database');
  container
    .command('add <database> <alias> <provider> <connectionString>')
    .description('add a container, e.g. `add klant-a eol ExactOnlineAll "clientid=…;clientsecret=…;refreshtoken=…"` ("-" reads the connection string from standard input)')
    .action(async (db: string, alias: string, provider: string, connectionString: string) => {
      const text = connectionString === '-' ? await readStdin(io.stdin) : connectionString;
      await withState(async (s) => {
        await s.tenancy.addContainer(db, alias, provider, text);
        out(`Container ${alias} (${provider}) added to ${db}; its secrets are sealed.`);
      });
    });
  container
    .command('remove <database> <alias>')
    .description('remove a container from a database')
    .action(async (db: string, alias: string) => {
      await withState(async (s) => {
        await s.tenancy.removeContainer(db, alias);
        out(`Container ${alias} removed from ${db}.`);
      });
    });

  admin
    .command('grant <user> <database>')
    .description('let a user read a database (with --write also insert, update and delete on its platforms)')
    .option('--write', 'also allow writes to the platforms through POST /{database}/sql')
    .action(async (u: string, d: string, flags: { write?: boolean }) => {
      await withState(async (s) => {
        await s.tenancy.grant(u, d, { write: flags.write === true });
        out(flags.write ? `${u} may now read and write ${d}.` : `${u} may now read ${d}.`);
      });
    });
  admin
    .command('revoke <user> <database>')
    .description("take away a user's access to a database")
    .action(async (u: string, d: string) => {
      await withState(async (s) => {
        await s.tenancy.revoke(u, d);
        out(`${u} may no longer use ${d}.`);
      });
    });

  const token = admin.command('token').description('API tokens for unattended refreshes');
  token
    .command('create <user>')
    .description('create a token (printed once; store it in Power BI or your scheduler)')
    .option('--description <text>', 'what the token is for')
    .action(async (u: string, flags: { description?: string }) => {
      await withState(async (s) => {
        const { id, token: text } = await s.tenancy.createToken(u, flags.description);
        out(text);
        io.stdout.write(`# token ${id} for ${u}: shown once, only its hash is stored. Use "Authorization: Bearer <token>" or Basic with user ${u} and the token as password.\n`);
      });
    });
  token
    .command('list [user]')
    .description('list tokens (ids, never the tokens)')
    .action(async (u: string | undefined) => {
      await withState(async (s) => {
        for (const t of await s.tenancy.listTokens(u)) out(`${t.id}\t${t.user}\t${t.createdAt}\t${t.description ?? ''}`);
      });
    });
  token
    .command('revoke <id>')
    .description('revoke a token by id')
    .action(async (id: string) => {
      await withState(async (s) => {
        await s.tenancy.revokeToken(id);
        out(`Token ${id} revoked.`);
      });
    });
}
