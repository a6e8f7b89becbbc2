/**
 * `palisade serve`: load the world, build the app, listen, print how to use it, and on SIGINT or
 * SIGTERM drain in-flight requests and stop.
 */
import { readFileSync } from 'node:fs';
import { Engine } from '@palisade/core';
import type { FastifyInstance } from 'fastify';
import type { Output } from './cli/run.js';
import { describeConfig, type ServerConfig } from './config.js';
import { generateKey, KeyStore, parseKeysFile } from './keys.js';
import { PoolEvaluator } from './pool/pool-evaluator.js';
import { buildServer } from './server.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  /** `http://host:port`, the port the server actually listens on. */
  readonly url: string;
  /** Drains in-flight requests and stops. */
  close(): Promise<void>;
}

/** How long shutdown waits for in-flight requests before closing their connections. */
const kDrainTimeoutMs = 10_000;

export async function serve(config: ServerConfig, out: Output): Promise<RunningServer> {
  // Keys first: a bad keys file fails before the world is loaded.
  let keys: KeyStore;
  let devKey: string | null = null;
  if (config.keysFile === null) {
    devKey = generateKey('pal_dev_');
    keys = new KeyStore([{ id: 'development', key: devKey, scopes: ['check', 'admin'] }]);
  } else {
    keys = new KeyStore(parseKeysFile(readFileSync(config.keysFile, 'utf8'), config.keysFile));
  }

  const started = performance.now();
  const engine = Engine.fromWorld(readFileSync(config.world));
  const loadedMs = performance.now() - started;
  const stats = engine.stats();
  out.log(`palisade: loaded ${config.world} in ${loadedMs.toFixed(1)} ms`);
  out.log(
    `  ${stats.businessUnits} business units, ${stats.users} users, ${stats.teams} teams, ${stats.roles} roles, ` +
      `${stats.records} records, ${stats.shares} shares → ${stats.profiles} compiled profiles`,
  );

  // Large check batches go to a pool of workers reading the compiled state from shared memory.
  const served =
    config.workers > 0
      ? {
          evaluator: new PoolEvaluator(engine, {
            threads: config.workers,
            threshold: config.poolThreshold,
            filterThreshold: config.filterPoolThreshold,
          }),
        }
      : { engine };
  const app = buildServer({
    ...served,
    keys,
    limits: config.limits,
    logger: { level: config.logLevel },
    publicUrl: config.publicUrl,
  });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;

  out.log(`palisade: listening on ${url} (API docs: ${url}/docs)`);
  out.log(describeConfig(config, 'none: a development key for this run').join('\n'));
  if (devKey !== null) {
    out.log(
      `palisade: no API keys file (--keys or PALISADE_KEYS), so this run accepts one development key,\n` +
        `  printed here only (scopes check, admin; a new one every start):\n\n    ${devKey}\n\n` +
        '  For lasting keys run `pnpm start keygen` and list them in a keys file.',
    );
  }
  out.log(
    `try: curl -H 'authorization: Bearer ${devKey ?? '<key>'}' -H 'content-type: application/json' \\\n` +
      `       -d '{"user":"u-wendy","table":"account","privilege":"read","record":"acc-litware"}' ${url}/v1/check`,
  );
  return { app, url, close: () => drain(app) };
}

/** Closes the app: new requests get 503, in-flight ones finish (connections are cut after a timeout). */
async function drain(app: FastifyInstance): Promise<void> {
  const timer = setTimeout(() => app.server.closeAllConnections(), kDrainTimeoutMs);
  timer.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
}

/** Serves until SIGINT or SIGTERM, then drains and resolves with the exit code. */
export async function serveUntilSignal(config: ServerConfig, out: Output): Promise<number> {
  const running = await serve(config, out);
  const signal = await new Promise<NodeJS.Signals>((resolveSignal) => {
    const stop = (received: NodeJS.Signals) => {
      // Handlers come off at the first signal: a second Ctrl-C during the drain gets Node's
      // default handling and ends the process.
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveSignal(received);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  out.log(`palisade: ${signal}: draining in-flight requests and stopping`);
  await running.close();
  out.log('palisade: stopped');
  return 0;
}
