import { sqliteAuditStaging } from '../../src/audit/staging-store.js';
import type { RelayDatabase } from '../../src/db/client.js';

/**
 * The connection, after moving the staged audit rows into `audit_log`, as every reader in the app
 * does first: a test's own SQL then sees what the API would.
 */
export function settled(database: RelayDatabase): RelayDatabase['sqlite'] {
  sqliteAuditStaging(database.sqlite).settle();
  return database.sqlite;
}
