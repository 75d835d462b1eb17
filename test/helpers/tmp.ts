import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temp folder per call; `cleanup` removes it. */
export function tempDir(label = 'relay'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), `${label}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
