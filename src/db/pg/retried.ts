/**
 * Failures another instance's concurrent transaction can cause, which the same batch written again
 * gets past: a deadlock or serialization failure, or an id taken by an instance that read the same
 * floor (raiseIdFloor makes that a 2^-40 chance).
 */
const TRANSIENT = new Set(['40P01', '40001', '23505']);

/** Runs `write` (a whole transaction) again, at most 3 times in all, when it met one of those. */
export async function retried<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      const code =
        (err as { code?: string; cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
      if (attempt >= 3 || !TRANSIENT.has(code ?? '')) throw err;
    }
  }
}
