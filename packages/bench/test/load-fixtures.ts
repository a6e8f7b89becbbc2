/**
 * What the load tool's tests share: a small world and its tampered twin, two in-process servers
 * serving them, and the options of a short run against one of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type WorldInput } from '@palisade/core';
import { buildServer } from '@palisade/server';
import { afterAll, beforeAll, expect } from 'vitest';
import { generateWorld, PRESETS } from '../src/generate/world.js';
import { writeWorld } from '../src/generate/write.js';
import { type BodySet, buildBodies } from '../src/load/bodies.js';
import { type LoadIo, runLoadCommand } from '../src/load/command.js';
import { type Kind, parseLoadOptions } from '../src/load/options.js';
import { QuestionMaker } from '../src/load/questions.js';
import type { RunPlan } from '../src/load/runner.js';

export const KEY = 'load-test-key-0123456789';
const KEYS = [{ id: 'load', key: KEY, scopes: ['check' as const] }];

export const world = generateWorld({ ...PRESETS.small, businessUnits: 30, users: 200, records: 3_000 });
/** The same ids, but every user a system administrator: every answer differs from `world`'s where `world` denies. */
export const everyoneAdmin: WorldInput = {
  ...world,
  roleAssignments: [
    ...(world.roleAssignments ?? []).filter((a) => a.roleId !== 'role-admin'),
    ...(world.users ?? []).map((u) => ({ principalId: u.id, roleId: 'role-admin' })),
  ],
};

export interface LoadServers {
  /** A folder for the file's outputs, removed after its tests. */
  readonly dir: string;
  /** `world`, written as JSON. */
  readonly worldFile: string;
  /** A server on `world`, and one on `everyoneAdmin` (set once the file's tests start). */
  url: string;
  tamperedUrl: string;
}

/** Starts the two servers before the calling file's tests and stops them after. */
export function useLoadServers(prefix: string): LoadServers {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const servers: LoadServers = { dir, worldFile: join(dir, 'world.json'), url: '', tamperedUrl: '' };
  let app: ReturnType<typeof buildServer> | undefined;
  let tampered: ReturnType<typeof buildServer> | undefined;
  beforeAll(async () => {
    await writeWorld(world, servers.worldFile, 'json');
    app = buildServer({ engine: Engine.fromWorld(world), keys: KEYS });
    servers.url = await app.listen({ host: '127.0.0.1', port: 0 });
    tampered = buildServer({ engine: Engine.fromWorld(everyoneAdmin), keys: KEYS });
    servers.tamperedUrl = await tampered.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await tampered?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return servers;
}

export function quietIo(): LoadIo & { logs: string[]; errors: string[] } {
  const logs: string[] = [];
  const errors: string[] = [];
  return { logs, errors, log: (line) => logs.push(line), error: (line) => errors.push(line), progress: null };
}

/** Options for a short run against `target`, small bodies, verifying a large share of answers. */
export function shortRunArgs(target: string, worldFile: string, extra: readonly string[]): string[] {
  return [
    '--url',
    target,
    '--key',
    KEY,
    '--world-file',
    worldFile,
    '--duration',
    '1s',
    '--warmup',
    '0s',
    '--batch',
    '40',
    '--rows',
    '300',
    '--bodies',
    '16',
    '--verify-sample',
    '0.3',
    '--reference-checks',
    '40',
    '--quiet',
    ...extra,
  ];
}

/** Small bodies, for runs that build their own body sets. */
export function shape() {
  return {
    encoding: 'json',
    batch: 10,
    rows: 50,
    filterForm: 'columns',
    filterOutput: 'indexes',
    lookupLimit: 10,
    bodies: 8,
  } as const;
}

let stubSets: Map<Kind, BodySet> | null = null;

/**
 * A small open loop against a stub server on `port`: JSON checks at 20 a second over 4
 * connections for 200 ms (due at 0, 50, 100 and 150 ms), nothing verified, unless `extra` says.
 */
export function stubPlan(port: number, extra: Partial<RunPlan> = {}): RunPlan {
  stubSets ??= new Map([['check', buildBodies('check', new QuestionMaker(world, 5), shape())]]);
  return {
    url: `http://127.0.0.1:${port}`,
    key: KEY,
    encoding: 'json',
    loop: { type: 'open', rate: 20, connections: 4 },
    durationMs: 200,
    warmupMs: 0,
    timeoutMs: 5_000,
    mix: [{ kind: 'check', weight: 1 }],
    sets: stubSets,
    seed: 1,
    verifySample: 0,
    ...extra,
  };
}

/** A port nothing listens on: one the OS just handed out and was closed again. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The error accounting every generator (`generator`: its options) must get right: each answer to a
 * key no server accepts counted under the code in its body, with no throughput and nothing to
 * verify; a closed port as LOAD_CONNECTION.
 */
export async function expectErrorsCounted(servers: LoadServers, name: string, generator: readonly string[]) {
  const run = async (target: string, out: string, extra: readonly string[] = []) => {
    const args = shortRunArgs(target, servers.worldFile, [
      ...generator,
      '--duration',
      '300ms',
      '--out',
      join(servers.dir, `${name}-${out}`),
    ]);
    return runLoadCommand(parseLoadOptions([...args, ...extra], {}), quietIo());
  };
  const wrongKey = await run(servers.url, 'denied', ['--key', 'not-a-key-0123456789']);
  expect(wrongKey.exitCode).toBe(1);
  expect(wrongKey.report.errors[0]).toMatchObject({ code: 'PALISADE_UNAUTHENTICATED', status: 401 });
  expect(wrongKey.report.errors[0]?.count).toBe(wrongKey.report.overall.requests);
  // Throughput counts answers, and none came back 2xx.
  expect(wrongKey.report.overall.rps).toBe(0);
  expect(wrongKey.report.verification.status).toBe('skipped');

  const refused = await run(`http://127.0.0.1:${await freePort()}`, 'refused');
  expect(refused.exitCode).toBe(1);
  expect(refused.report.errors[0]).toMatchObject({ code: 'LOAD_CONNECTION', status: null });
}
