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
import { afterAll, beforeAll } from 'vitest';
import { generateWorld, PRESETS } from '../src/generate/world.js';
import { writeWorld } from '../src/generate/write.js';
import type { LoadIo } from '../src/load/command.js';

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

/** A port nothing listens on: one the OS just handed out and was closed again. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
