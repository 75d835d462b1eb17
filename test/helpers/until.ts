/**
 * Polls `check` until it holds; throws naming `what` after `timeoutMs`. For effects the test
 * cannot await directly (a log line written after the client went away), instead of a sleep.
 */
export async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
