import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';

describe('logged errors', () => {
  it('keep the driver’s code and the error they wrap (drizzle wraps PostgreSQL’s)', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', (l) => lines.push(l));
    const pg = Object.assign(new Error('duplicate key value violates unique constraint "events_pkey"'), {
      code: '23505',
    });
    logger.error('ingest failed', { err: new Error('Failed query: insert into "events"', { cause: pg }) });
    await expect.poll(() => lines.length).toBe(1);
    const { err } = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
    expect(err).toMatchObject({
      message: 'Failed query: insert into "events"',
      cause: { code: '23505', message: expect.stringContaining('events_pkey') },
    });
  });
});
