import type { JsonWebKey } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { type ChainItem, ChainWalk, type Checkpoint, type Mismatch } from './chain.js';

/**
 * `npm run audit:verify -- FILE.ndjson --key KEY.jwk`: checks an NDJSON audit export offline,
 * with nothing but the file and the public key (GET /v1/audit/public-key), so an auditor need
 * not trust the server. Exit 0: intact; 1: the first row altered, missing or out of place is
 * printed; 2: the file or key cannot be used.
 */
interface Header {
  chain: {
    orgId: string;
    /** The time range exported, if any. */
    range: { from?: string; to?: string };
    /** Other filters the export had (names): rows were left out, so the chain cannot be walked. */
    filteredBy: string[];
    anchor: { seq: number; hash: string } | null;
    checkpoints: Checkpoint[];
  };
}

const USAGE = 'usage: npm run audit:verify -- FILE.ndjson --key KEY.jwk';

async function main(argv: string[]): Promise<number> {
  const keyAt = argv.indexOf('--key');
  const keyPath = keyAt >= 0 ? argv[keyAt + 1] : undefined;
  const file = argv.find((a, i) => !a.startsWith('--') && i !== keyAt + 1);
  if (!file || !keyPath) return fail(USAGE);
  let key: JsonWebKey;
  try {
    key = JSON.parse(readFileSync(keyPath, 'utf8')) as JsonWebKey;
  } catch (err) {
    return fail(`cannot read the key ${keyPath}: ${(err as Error).message}`);
  }
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let header: Header['chain'] | undefined;
  let walk: ChainWalk | undefined;
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return report({
        ok: false,
        rows: walk?.rows ?? 0,
        checkpoints: walk?.checkpoints ?? 0,
        firstMismatch: { seq: null, id: null, reason: `line ${n} is not JSON` },
      });
    }
    if (!header) {
      header = (value as Partial<Header>).chain;
      if (!header) return fail(`${file} does not start with the export's chain line: export it as NDJSON`);
      if (header.filteredBy.length > 0) {
        const by = header.filteredBy.join(', ');
        return fail(`the export is filtered by ${by}: only a whole log or a time range can be verified`);
      }
      continue;
    }
    const { hash, ...item } = value as ChainItem & { hash: string | null };
    walk ??= new ChainWalk(header.orgId, anchorOf(header, item.seq), key, header.checkpoints);
    walk.row(item, hash);
    if (walk.firstMismatch) break;
  }
  if (!header) return fail(`${file} is empty`);
  // A whole log must reach its last signed checkpoint; a time range may end before it.
  if (header.range.to === undefined) walk?.end();
  return report({
    ok: !walk?.firstMismatch,
    rows: walk?.rows ?? 0,
    checkpoints: walk?.checkpoints ?? 0,
    ...(walk?.firstMismatch ? { firstMismatch: walk.firstMismatch } : {}),
  });
}

/** Where the first row's chain starts: the genesis, the row before it, or its signed checkpoint. */
function anchorOf(h: Header['chain'], firstSeq: number): { seq: number; hash: string } | undefined {
  if (firstSeq <= 1) return undefined;
  const signed = h.checkpoints.find((c) => c.seq === firstSeq - 1);
  return signed ? { seq: signed.seq, hash: signed.hash } : (h.anchor ?? { seq: firstSeq - 1, hash: '' });
}

function report(result: {
  ok: boolean;
  rows: number;
  checkpoints: number;
  firstMismatch?: Mismatch;
}): number {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result.ok ? 0 : 1;
}

function fail(message: string): number {
  process.stderr.write(`${message}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(fail(err instanceof Error ? err.message : String(err))),
);
