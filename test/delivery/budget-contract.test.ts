import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openPgDatabase, type PgDatabase } from '../../src/db/pg/client.js';
import { type BudgetStore, Budgets, BUDGET_WINDOW_MS as W } from '../../src/delivery/budget.js';
import { PgBudgetStore } from '../../src/delivery/budget-pg-store.js';
import { startPgDatabase } from '../helpers/pg-db.js';

/**
 * The same budget behaviours on both backends. An "instance" is what one relay process holds: on
 * SQLite one process owns the file, so every instance is the same in-memory bucket; on PostgreSQL
 * each instance is a store of its own on a connection pool of its own, sharing only the database,
 * as separate processes would. One PostgreSQL server for the file, emptied between tests.
 */

interface Backend {
  /** A further process's budget store on the same database. */
  instance(): BudgetStore;
  close(): Promise<void>;
}

let pg: Awaited<ReturnType<typeof startPgDatabase>>;
beforeAll(async () => {
  pg = await startPgDatabase();
});
afterAll(() => pg?.close());

function sqliteBackend(): Backend {
  const one = new Budgets();
  return { instance: () => one, close: async () => {} };
}

async function pgBackend(): Promise<Backend> {
  await pg.database.sql`truncate org_budgets`;
  const pools: PgDatabase[] = [];
  return {
    instance: () => {
      const database = openPgDatabase(pg.url, { max: 4 });
      pools.push(database);
      return new PgBudgetStore(database);
    },
    close: async () => {
      await Promise.all(pools.map((p) => p.close()));
    },
  };
}

const T = Date.parse('2026-11-25T12:00:00Z');

describe.each([
  ['SQLite', async () => sqliteBackend()],
  ['PostgreSQL', pgBackend],
] as const)('BudgetStore contract on %s', (_name, open) => {
  let b: Backend;
  beforeEach(async () => {
    b = await open();
  });
  afterEach(() => b.close());

  it('allows requestsPerMinute at once, then more as the minute’s takes age out', async () => {
    const s = b.instance();
    for (let i = 0; i < 200; i++) expect(await s.take('org', 300, T)).toBeUndefined();
    for (let i = 0; i < 100; i++) expect(await s.take('org', 300, T + 30_000)).toBeUndefined();
    expect(await s.take('org', 300, T + 30_000)).toBe(T + W);
    expect(s.paused(T + 30_000)).toEqual(['org']);
    expect(await s.take('org', 300, T + 45_000)).toBe(T + W); // paused: the minute is not asked
    // The 200 of T age out at T + W; the 100 of T + 30 s are still in the window.
    for (let i = 0; i < 200; i++) expect(await s.take('org', 300, T + W)).toBeUndefined();
    expect(await s.take('org', 300, T + W)).toBe(T + 30_000 + W);
  });

  it('reserves several requests at once, never more than a minute’s worth', async () => {
    const s = b.instance();
    expect(await s.take('org', 3, T, 2)).toBeUndefined();
    expect(await s.take('org', 3, T + 1_000, 2)).toBe(T + W);
    expect(await s.take('solo', 1, T, 2)).toBeUndefined();
  });

  it('never lets any 60 s window hold more than the budget, and uses all of it', async () => {
    const s = b.instance();
    const sent: number[] = [];
    // Asking every 10 ms for 3 minutes: the minute decides what goes out when.
    for (let at = T; at < T + 180_000; at += 10) {
      if ((await s.take('org', 300, at)) === undefined) sent.push(at);
    }
    let most = 0;
    for (let lo = 0, hi = 0; hi < sent.length; hi++) {
      while (sent[hi]! - sent[lo]! >= 60_000) lo++;
      most = Math.max(most, hi - lo + 1);
    }
    expect(most).toBe(300);
    expect(sent.length).toBe(900);
  }, 60_000);

  it('keeps orgs apart, and a 429 pauses only that org', async () => {
    const s = b.instance();
    await s.pause('a', T + 5_000);
    expect(await s.take('a', 300, T + 1_000)).toBe(T + 5_000);
    expect(await s.take('b', 300, T + 1_000)).toBeUndefined();
    expect(s.paused(T + 1_000)).toEqual(['a']);
    expect(await s.take('a', 300, T + 5_000)).toBeUndefined();
    // A shorter Retry-After later never shortens a pause.
    await s.pause('a', T + 9_000);
    await s.pause('a', T + 6_000);
    expect(await s.take('a', 300, T + 8_000)).toBe(T + 9_000);
  });

  it('a 429 on one instance pauses the org on every other', async () => {
    const one = b.instance();
    const two = b.instance();
    expect(await two.take('org', 300, T)).toBeUndefined();
    await one.pause('org', T + 30_000);
    expect(await two.take('org', 300, T + 1_000)).toBe(T + 30_000);
    // The runner's synchronous list catches up in the background, kicked by asking it.
    const three = b.instance();
    three.paused(T + 1_000);
    await vi.waitFor(() => expect(three.paused(T + 1_000)).toEqual(['org']));
    await two.refresh(T + 1_000);
    expect(two.paused(T + 1_000)).toEqual(['org']);
    expect(two.paused(T + 30_000)).toEqual([]);
  });

  it('one minute for all instances: what one takes, another cannot', async () => {
    const one = b.instance();
    const two = b.instance();
    for (let i = 0; i < 10; i++) expect(await one.take('org', 20, T)).toBeUndefined();
    for (let i = 0; i < 10; i++) expect(await two.take('org', 20, T + 1_000)).toBeUndefined();
    expect(await one.take('org', 20, T + 2_000)).toBe(T + W);
    // The spent minute pauses the org everywhere until its first takes age out.
    await two.refresh(T + 2_000);
    expect(two.paused(T + 2_000)).toEqual(['org']);
    expect(await two.take('org', 20, T + W)).toBeUndefined();
  });

  it('three instances taking in parallel never hand out more than the org’s budget', async () => {
    const instances = [b.instance(), b.instance(), b.instance()];
    const perMinute = 50;
    const burst = async (at: number, each: number) => {
      const takes = instances.flatMap((s) =>
        Array.from({ length: each }, () => s.take('org', perMinute, at)),
      );
      return (await Promise.all(takes)).filter((r) => r === undefined).length;
    };
    // 120 asked at once: exactly 50 go out; nothing more within the minute, however many ask.
    expect(await burst(T, 40)).toBe(50);
    expect(await burst(T + 30_000, 20)).toBe(0);
    expect(await burst(T + W, 20)).toBe(50);
  });

  it('a clock behind the others still counts their takes', async () => {
    const ahead = b.instance();
    const behind = b.instance();
    for (let i = 0; i < 60; i++) expect(await ahead.take('org', 60, T + 60_000)).toBeUndefined();
    // Behind, its clock 45 s late, finds the minute spent: the takes ahead of it count too.
    expect(await behind.take('org', 60, T + 15_000)).toBeDefined();
    expect(await ahead.take('org', 60, T + 60_000 + W)).toBeUndefined();
  });
});
