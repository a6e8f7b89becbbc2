/**
 * `palisade serve`: open the store (or read the world file), build the app, listen, print how to
 * use it, and on SIGINT or SIGTERM drain in-flight requests, then stop the database.
 */
import { readFileSync } from 'node:fs';
import { Engine } from '@palisade/core';
import type { FastifyInstance } from 'fastify';
import type { Output } from './cli/run.js';
import { describeConfig, type ServerConfig } from './config.js';
import { InlineEvaluator } from './evaluator.js';
import { generateKey, KeyStore, parseKeysFile } from './keys.js';
import { PoolEvaluator } from './pool/pool-evaluator.js';
import { releaseEmbeddedSignalHooks } from './postgres/embedded.js';
import { Replica } from './replica.js';
import { httpOrigin } from './routes/options.js';
import { buildServer } from './server.js';
import { openStore, type Store } from './store/open.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  /** `http://host:port`, the port the server actually listens on. */
  readonly url: string;
  /** Drains in-flight requests and stops. */
  close(): Promise<void>;
}

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

  // Large check batches go to a pool of workers reading the compiled state from shared memory.
  const evaluatorFor = (engine: Engine): InlineEvaluator =>
    config.workers > 0
      ? new PoolEvaluator(engine, {
          threads: config.workers,
          threshold: config.poolThreshold,
          columnThreshold: config.columnPoolThreshold,
          filterThreshold: config.filterPoolThreshold,
          maxQueue: config.poolMaxQueue,
          taskTimeoutMs: config.poolTaskTimeoutMs,
        })
      : new InlineEvaluator(engine);

  let store: Store | null = null;
  let replica: Replica | null = null;
  let app: FastifyInstance | null = null;
  try {
    const started = performance.now();
    const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
    if (config.store === 'postgres') {
      store = await openStore({
        databaseUrl: config.databaseUrl ?? undefined,
        dataDir: config.dataDir,
        onEmbeddedRestart: ({ attempt, error }) =>
          error === undefined
            ? out.log(`palisade: the embedded PostgreSQL exited on its own and is running again (attempt ${attempt})`)
            : out.error(`palisade: restarting the embedded PostgreSQL, attempt ${attempt} failed: ${error.message}`),
      });
      // This process stops the embedded PostgreSQL itself, after the HTTP drain.
      releaseEmbeddedSignalHooks();
      out.log(`palisade: store: ${store.location} (migrated, ${seconds()} s)`);
      const seeded = await store.importIfEmpty({ file: config.world });
      if (seeded !== null) {
        out.log(
          `palisade: the store was empty: imported ${config.world} as revision ${seeded.revision} (${seconds()} s)`,
        );
      }
      const opened = store;
      replica = await Replica.open(opened, {
        evaluator: evaluatorFor,
        waitMs: config.revisionWaitMs,
        catchUpMs: config.catchUpMs,
        onError: (message, error) =>
          out.error(`palisade: ${message}: ${error instanceof Error ? error.message : String(error)}`),
      });
      out.log(`palisade: loaded the store at revision ${replica.revision} in ${seconds()} s`);
    } else {
      const engine = Engine.fromWorld(readFileSync(config.world));
      replica = Replica.serving(evaluatorFor(engine), { waitMs: config.revisionWaitMs });
      out.log(
        `palisade: loaded ${config.world} in ${(performance.now() - started).toFixed(1)} ms (no store: writes refused)`,
      );
    }
    const stats = replica.evaluator.stats();
    out.log(
      `  ${stats.businessUnits} business units, ${stats.users} users, ${stats.teams} teams, ${stats.roles} roles, ` +
        `${stats.records} records, ${stats.shares} shares → ${stats.profiles} compiled profiles`,
    );

    app = buildServer({
      replica,
      keys,
      limits: config.limits,
      logger: { level: config.logLevel },
      publicUrl: config.publicUrl,
      listen: { host: config.host, port: config.port },
    });
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    if (app !== null) await app.close();
    else await replica?.close();
    await store?.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const url = httpOrigin(config.host, port);

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
  const running = app;
  const opened = store;
  return {
    app: running,
    url,
    close: async () => {
      // HTTP first (in-flight requests, writes included, finish), then the database.
      await drain(running, config.drainTimeoutMs);
      await opened?.close();
    },
  };
}

/** Closes the app: new requests get 503, in-flight ones finish (their connections are cut after `timeoutMs`). */
async function drain(app: FastifyInstance, timeoutMs: number): Promise<void> {
  const timer = setTimeout(() => app.server.closeAllConnections(), timeoutMs);
  timer.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
}

/** Serves until SIGINT or SIGTERM, then drains and resolves with the exit code. */
export async function serveUntilSignal(config: ServerConfig, out: Output): Promise<number> {
  // Listening from the start: a signal during start-up stops the server as soon as it is up.
  let stop = (_received: NodeJS.Signals): void => {};
  const signalled = new Promise<NodeJS.Signals>((resolveSignal) => {
    stop = (received) => {
      // Handlers come off at the first signal: a second Ctrl-C during the drain gets Node's
      // default handling and ends the process.
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveSignal(received);
    };
  });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let running: RunningServer;
  try {
    running = await serve(config, out);
  } catch (error) {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    throw error;
  }
  const signal = await signalled;
  out.log(`palisade: ${signal}: draining in-flight requests and stopping`);
  await running.close();
  out.log('palisade: stopped');
  return 0;
}
