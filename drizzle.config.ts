import { defineConfig } from 'drizzle-kit';

// Used only by `npm run db:generate` to write a new migration into migrations/ after a schema
// change. The server applies committed migrations itself at boot (src/db/client.ts).
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema.ts',
  out: './migrations',
  casing: 'snake_case',
  strict: true,
});
