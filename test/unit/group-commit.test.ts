import { describe, expect, it } from 'vitest';
import { Failed, groupCommit } from '../../src/lib/group-commit.js';

describe('groupCommit', () => {
  it('writes the calls of one turn together, each caller getting its own answer', async () => {
    const batches: number[][] = [];
    const write = groupCommit((batch: number[]) => {
      batches.push(batch);
      return batch.map((n) => n * 10);
    });
    const answers = await Promise.all([write(1), write(2), write(3)]);
    expect(answers).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('an item that fails alone rejects only its caller; a write that throws rejects the batch', async () => {
    const write = groupCommit((batch: number[]) => {
      if (batch.includes(0)) throw new Error('disk full');
      return batch.map((n) => (n < 0 ? new Failed(new Error(`bad ${n}`)) : n));
    });
    const mixed = await Promise.allSettled([write(1), write(-2), write(3)]);
    expect(mixed.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      1,
      'bad -2',
      3,
    ]);
    const thrown = await Promise.allSettled([write(4), write(0)]);
    expect(thrown.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('one write at a time: calls made while a write is in flight are the next batch', async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const write = groupCommit(async (batch: number[]) => {
      batches.push(batch);
      if (batches.length === 1) await gate;
      return batch;
    });
    const first = write(1);
    // Let the first batch start its write, then call twice while it is in flight.
    await new Promise((r) => setImmediate(r));
    const later = [write(2), write(3)];
    expect(batches).toEqual([[1]]);
    release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3]]);
  });
});
