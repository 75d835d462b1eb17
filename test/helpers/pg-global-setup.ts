import type { TestProject } from 'vitest/node';
import { openPgDatabase } from '../../src/db/pg/client.js';
import { startPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared test server's `relay` database: migrated, never used, the template of each app's. */
    pgTemplateUrl: string;
  }
}

/**
 * The PostgreSQL project's one server (initdb costs 1–2 s, too much per test file): migrated once
 * into the `relay` database, which every test app then copies into a database of its own
 * (`create database … template relay`: tens of milliseconds).
 */
export default async function setup(project: TestProject) {
  const server = await startPostgres();
  const database = openPgDatabase(server.url, { max: 1 });
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
  project.provide('pgTemplateUrl', server.url);
  return () => server.close();
}
