import { startEmbeddedPostgres } from '@palisade/server';

/** PostgreSQL for baselines: `DATABASE_URL` when set, else an embedded server in `dataDir`. */
export async function startPostgres(dataDir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (url !== undefined && url !== '') return { url, stop: async () => {} };
  return startEmbeddedPostgres({ dataDir });
}
