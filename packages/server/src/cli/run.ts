import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine, type Explanation, isPalisadeError } from '@palisade/core';
import { resolveConfig, SAMPLE_WORLD, SETTING_OPTIONS, SETTINGS, type ServerConfig } from '../config.js';
import { isServerError } from '../errors.js';
import { generateKey, SCOPES, type Scope, sha256 } from '../keys.js';
import { serveUntilSignal } from '../main.js';
import { DatabaseUnavailableError } from '../postgres/embedded.js';
import { openStore } from '../store/open.js';
import { worldFileFormat } from '../store/world-file.js';

export { SAMPLE_WORLD };

const settingLines = Object.values(SETTINGS)
  .map((s) => `  --${`${s.flag} <value>`.padEnd(20)} ${s.help}; env ${s.env}`)
  .join('\n');

const USAGE = `usage: palisade <command> [options]

commands:
  serve                                    start the HTTP server (default)
  demo                                     load the world and answer a few sample questions
  check <user> <table> <privilege> <record> decide one question and explain it
  privileges <user>                        list a user's privileges and where they come from
  keygen [--id <id>] [--scopes check,admin] make an API key and its keys-file entry
  import <world.json|world.msgpack>        replace the world in the PostgreSQL store with this one
  export <out.json|out.msgpack>            write the world in the PostgreSQL store to a file
  compact                                  fold the store's change log into a new snapshot

store (serve, import, export): PostgreSQL at --database-url (DATABASE_URL), else an embedded one
  whose data directory is --data-dir (PALISADE_DATA_DIR, default .data/postgres in the project).
  serve uses the store unless --store none, or a --world is named without a database URL: then it
  serves that file as it is (no writes)

options:
${settingLines}
  --json                 print machine-readable JSON (check, privileges)
  -h, --help             show this help`;

/** Where the command line writes: stdout and stderr, or a test's buffers. */
export interface Output {
  log(line: string): void;
  error(line: string): void;
}

const consoleOutput: Output = { log: (line) => console.log(line), error: (line) => console.error(line) };

/**
 * Runs the `palisade` command line; resolves with the exit code (0 allowed/ok, 1 denied, 2 bad
 * usage or input). `serve` (the default) resolves once a signal has stopped the server.
 */
export async function runCli(
  argv: readonly string[],
  out: Output = consoleOutput,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  try {
    return await main(argv, out, env);
  } catch (error) {
    if (isPalisadeError(error) || isServerError(error)) {
      out.error(`palisade: ${error.message} [${error.code}]`);
      return 2;
    }
    if (isUsageError(error)) {
      out.error(`palisade: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'EADDRINUSE') {
      out.error(`palisade: ${(error as Error).message}`);
      return 2;
    }
    throw error;
  }
}

function isUsageError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

async function main(
  argv: readonly string[],
  out: Output,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...SETTING_OPTIONS,
      id: { type: 'string' },
      scopes: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command = 'serve', ...rest] = positionals;
  if (values.help) {
    out.log(USAGE);
    return 0;
  }
  if (command === 'keygen') return keygen(out, values.id ?? 'app', values.scopes ?? 'check');
  // pnpm runs scripts in the package folder; INIT_CWD is where the user typed the command.
  const cwd = env.INIT_CWD ?? process.cwd();
  const config = resolveConfig(values, env, cwd);
  if (command === 'import' || command === 'export' || command === 'compact') {
    return storeCommand(command, rest, out, config, cwd);
  }
  if (command === 'serve') return serveUntilSignal(config, out);

  const worldPath = config.world;
  const started = performance.now();
  const engine = Engine.fromWorld(readFileSync(worldPath));
  const loadedMs = performance.now() - started;

  switch (command) {
    case 'demo':
      return demo(out, engine, worldPath, loadedMs);
    case 'check': {
      const [user, table, privilege, record] = rest;
      if (user === undefined || table === undefined || privilege === undefined || record === undefined) {
        out.error(USAGE);
        return 2;
      }
      const explanation = engine.explain(user, table, privilege as never, record);
      print(out, values.json, explanation, () => describe(explanation));
      return explanation.allowed ? 0 : 1;
    }
    case 'privileges': {
      const [user] = rest;
      if (user === undefined) {
        out.error(USAGE);
        return 2;
      }
      const privileges = engine.userPrivileges(user);
      print(out, values.json, privileges, () =>
        [
          `${privileges.user} (business unit ${privileges.businessUnit}${privileges.disabled ? ', disabled' : ''}${
            privileges.systemAdministrator ? ', system administrator' : ''
          })`,
          ...privileges.privileges.map(
            (p) =>
              `  ${p.table}.${p.privilege}: ${p.grants
                .map(
                  (g) =>
                    `${g.depth}${g.businessUnit === null ? '' : `@${g.businessUnit}`} (${g.role.name}${g.team === null ? '' : ` via ${g.team}`})`,
                )
                .join(', ')}`,
          ),
        ].join('\n'),
      );
      return 0;
    }
    default:
      out.error(`unknown command \`${command}\`\n\n${USAGE}`);
      return 2;
  }
}

function demo(out: Output, engine: Engine, worldPath: string, loadedMs: number): number {
  const stats = engine.stats();
  out.log(`palisade: loaded ${worldPath} in ${loadedMs.toFixed(1)} ms`);
  out.log(
    `  ${stats.businessUnits} business units, ${stats.users} users, ${stats.teams} teams, ${stats.roles} roles, ` +
      `${stats.records} records, ${stats.shares} shares → ${stats.profiles} compiled profiles`,
  );
  const { model } = engine;
  const table = model.tables.find((t) => !t.organizationOwned && t.records.count > 0);
  if (table === undefined) return 0;
  const users = model.principals.filter((_, i) => model.isUser(i)).slice(0, 4);
  const records = table.records.ids.slice(0, 3);
  const userWidth = Math.max(...users.map((u) => u.id.length));
  const recordWidth = Math.max(...records.map((r) => r.length));
  out.log(`\nread on ${table.name}:`);
  for (const user of users) {
    for (const record of records) {
      const decision = engine.check(user.id, table.name, 'read', record);
      const verdict = decision.allowed ? 'allow' : 'deny ';
      out.log(`  ${user.id.padEnd(userWidth)}  ${record.padEnd(recordWidth)}  ${verdict} (${decision.reason})`);
    }
  }
  const first = users[0];
  const record = records[0];
  if (first !== undefined && record !== undefined) {
    out.log(`\n${describe(engine.explain(first.id, table.name, 'write', record))}`);
  }
  out.log('\ntry: pnpm start check <user> <table> <privilege> <record>   (or --help)');
  return 0;
}

/**
 * `import <file>`, `export <file>` and `compact` against the PostgreSQL store: DATABASE_URL when set, else an
 * embedded server on PALISADE_DATA_DIR (default .data/postgres), started for the command and stopped.
 */
async function storeCommand(
  command: 'import' | 'export' | 'compact',
  args: readonly string[],
  out: Output,
  config: ServerConfig,
  cwd: string,
): Promise<number> {
  const [file = ''] = args;
  if (command === 'compact' ? args.length > 0 : args.length !== 1) {
    out.error(`palisade: ${command} takes ${command === 'compact' ? 'no arguments' : 'one file name'}\n\n${USAGE}`);
    return 2;
  }
  const format = worldFileFormat(file);
  if (command === 'export' && format === null) {
    out.error(`palisade: export writes a .json or .msgpack file, not \`${file}\``);
    return 2;
  }
  const path = resolve(cwd, file);
  const databaseUrl = config.databaseUrl ?? undefined;
  const dataDir = config.dataDir;
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  try {
    const store = await openStore({ databaseUrl, dataDir });
    try {
      if (command === 'import') {
        const { revision, rows } = await store.importWorld({ file: path });
        out.log(
          `palisade: imported ${path} into ${store.location} in ${seconds()} s: ` +
            `${rows.records ?? 0} records, ${rows.shares ?? 0} shares, ${rows.users ?? 0} users; revision ${revision}`,
        );
      } else if (command === 'export') {
        const { revision, records, shares } = await store.exportFile(path, format ?? 'json');
        out.log(
          `palisade: exported revision ${revision} from ${store.location} to ${path} in ${seconds()} s: ` +
            `${records} records, ${shares} shares`,
        );
      } else {
        const result = await store.compact();
        out.log(
          result.compacted
            ? `palisade: compacted ${store.location} in ${seconds()} s: ${result.changes} changes up to revision ` +
                `${result.folded} folded into a snapshot of ${result.records} records; revision ${result.revision} ` +
                '(servers reload it as an import)'
            : `palisade: nothing to compact in ${store.location}: no changes after the snapshot (revision ${result.revision})`,
        );
      }
    } finally {
      await store.close();
    }
    return 0;
  } catch (error) {
    if (databaseUrl === undefined) keepExitCode(2);
    if (error instanceof DatabaseUnavailableError) {
      out.error(`palisade: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

/**
 * Once the embedded PostgreSQL has been started, its exit hook ends a process that runs out of
 * work with `process.exit(0)`, overriding `process.exitCode` (postgres/embedded.ts). Node reads
 * `process.exitCode` again after the 'exit' listeners ran, so setting it there keeps ours.
 */
function keepExitCode(code: number): void {
  process.once('exit', () => {
    process.exitCode = code;
  });
}

/** A new key, printed once, and the keys-file entry that holds only its SHA-256. */
function keygen(out: Output, id: string, scopeList: string): number {
  const scopes = scopeList.split(',').map((s) => s.trim());
  const unknown = scopes.find((s) => !SCOPES.includes(s as Scope));
  if (id === '' || unknown !== undefined || scopes.length === 0) {
    out.error(`palisade: --scopes takes a comma-separated list of ${SCOPES.join(', ')}; --id a non-empty name`);
    return 2;
  }
  const key = generateKey();
  out.log(`key (give it to the client; it is not stored anywhere):\n  ${key}`);
  out.log('keys-file entry (add it to the "keys" array of the file --keys names):');
  out.log(`  ${JSON.stringify({ id, sha256: sha256(key).toString('hex'), scopes })}`);
  return 0;
}

function describe(explanation: Explanation): string {
  const lines = [explanation.summary];
  for (const path of explanation.paths) lines.push(`  - ${path.text}`);
  return lines.join('\n');
}

function print(out: Output, json: boolean | undefined, value: unknown, text: () => string): void {
  out.log(json === true ? JSON.stringify(value, null, 2) : text());
}
