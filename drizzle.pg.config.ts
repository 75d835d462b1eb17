import { defineConfig } from 'drizzle-kit';

// Used only by `npm run db:generate:pg` to write a new PostgreSQL migration into migrations-pg/
// after a change to src/db/pg/schema.ts (the twin of drizzle.config.ts for SQLite).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/pg/schema.ts',
  out: './migrations-pg',
  casing: 'snake_case',
  strict: true,
});
