/**
 * Group commit: the calls made during one turn of the event loop are written together, by one
 * `write` (one transaction, one commit), and each caller's promise settles once that write is
 * done. One write is in flight at a time; calls made meanwhile are the next batch, so batches
 * grow with the load instead of the number of commits. A commit's cost is mostly the pages it
 * writes, which a batch's rows share: one commit per batch instead of per call is what lets the
 * hot paths (ingest, job settles, attempt rows) keep up.
 *
 * `write` answers each item in order: a value, or `new Failed(error)` for an item that failed
 * alone (its caller's promise rejects with `error`). A `write` that throws rejects the whole batch.
 */
export function groupCommit<T, R>(
  write: (batch: T[]) => Promise<Array<R | Failed>> | Array<R | Failed>,
): (item: T) => Promise<R> {
  let queue: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  let flushing = false;

  const flush = async () => {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        const results = await write(batch.map((p) => p.item));
        for (const [i, p] of batch.entries()) {
          const r = results[i] as R | Failed;
          if (r instanceof Failed) p.reject(r.error);
          else p.resolve(r);
        }
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    flushing = false;
  };

  return (item) =>
    new Promise<R>((resolve, reject) => {
      if (queue.length === 0 && !flushing) setImmediate(() => void flush());
      queue.push({ item, resolve, reject });
    });
}

/** One item of a batch that failed on its own (the rest of the batch is written). */
export class Failed {
  constructor(readonly error: unknown) {}
}
