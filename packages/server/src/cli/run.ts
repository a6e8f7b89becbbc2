import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Engine, type Explanation, isPalisadeError } from '@palisade/core';

export const SAMPLE_WORLD = new URL('../../../../fixtures/worlds/sample.json', import.meta.url);

const USAGE = `usage: palisade <command> [options]

commands:
  demo                                     load the world and answer a few sample questions (default)
  check <user> <table> <privilege> <record> decide one question and explain it
  privileges <user>                        list a user's privileges and where they come from

options:
  --world <file>   world file, JSON or MessagePack (default: fixtures/worlds/sample.json)
  --json           print machine-readable JSON
  -h, --help       show this help`;

/** Where the command line writes: stdout and stderr, or a test's buffers. */
export interface Output {
  log(line: string): void;
  error(line: string): void;
}

const consoleOutput: Output = { log: (line) => console.log(line), error: (line) => console.error(line) };

/** Runs the `palisade` command line; returns the exit code (0 allowed/ok, 1 denied, 2 bad usage or input). */
export function runCli(argv: readonly string[], out: Output = consoleOutput): number {
  try {
    return main(argv, out);
  } catch (error) {
    if (!isPalisadeError(error)) throw error;
    out.error(`palisade: ${error.message} [${error.code}]`);
    return 2;
  }
}

function main(argv: readonly string[], out: Output): number {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      world: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command = 'demo', ...rest] = positionals;
  if (values.help) {
    out.log(USAGE);
    return 0;
  }
  // pnpm runs scripts in the package folder; INIT_CWD is where the user typed the command.
  const worldPath =
    values.world === undefined ? SAMPLE_WORLD : resolve(process.env.INIT_CWD ?? process.cwd(), values.world);
  const started = performance.now();
  const engine = Engine.fromWorld(readFileSync(worldPath));
  const loadedMs = performance.now() - started;

  switch (command) {
    case 'demo':
      return demo(out, engine, typeof worldPath === 'string' ? worldPath : fileURLToPath(worldPath), loadedMs);
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

function describe(explanation: Explanation): string {
  const lines = [explanation.summary];
  for (const path of explanation.paths) lines.push(`  - ${path.text}`);
  return lines.join('\n');
}

function print(out: Output, json: boolean | undefined, value: unknown, text: () => string): void {
  out.log(json === true ? JSON.stringify(value, null, 2) : text());
}
