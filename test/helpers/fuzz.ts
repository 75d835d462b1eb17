/**
 * Seeded hostile input for the fuzz test: a tiny PRNG, bodies, header values, path segments and
 * random JSON text (written by hand, so it can hold what JSON.stringify never produces:
 * duplicate keys, 1e309, escaped lone surrogates, any depth).
 */

/** mulberry32: a small, fast, seedable PRNG (the same seed gives the same run). */
export function mulberry32(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}
export type Rng = ReturnType<typeof mulberry32>;

/** An object nesting `depth` arrays and objects in all: `{"a":[[…]]}`. */
export const nestedJson = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

const deepConditions = (depth: number) =>
  `${'{"not":'.repeat(depth)}{"path":"$.a","op":"exists"}${'}'.repeat(depth)}`;

/** Bodies for any route: not JSON, wrong types, hostile JSON, and a few valid ones (`valid`). */
export function hostileBodies(valid: readonly string[]): Array<string | Buffer> {
  return [
    '',
    ' ',
    'null',
    'true',
    '1',
    '"text"',
    '[]',
    '{}',
    'not json',
    '{"a":',
    '{"a":1}garbage',
    '{"a":1}{"b":2}',
    '\u2028{}',
    nestedJson(63),
    nestedJson(64),
    nestedJson(65),
    nestedJson(20_000),
    `{"name":"r","when":${deepConditions(20_000)}}`,
    `{"event":${nestedJson(20_000)},"rule":{"name":"r","when":{"path":"$.a","op":"eq","value":1}}}`,
    `{"s":"${'x'.repeat(200_000)}"}`,
    `{"s":"${'x'.repeat(300_000)}"}`,
    `[${'1,'.repeat(50_000)}1]`,
    `{${Array.from({ length: 5_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`,
    '{"a":1e309,"b":-1e309,"c":1e-400,"d":123456789012345678901234567890,"e":-0}',
    '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":1}',
    '{"a":"nul\\u0000here","\\u0000":"\\ud800"}',
    '{"a":"raw\u0000nul"}',
    Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x22, 0x7d]),
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"name":"bom","auth":"bearer"}')]),
    '{"a":1,"a":{"b":2}}',
    '{"name":123,"auth":["bearer"]}',
    '{"name":"x","auth":"bearer","extra":{"__proto__":null}}',
    '{"settings":{"requestsPerMinute":1e309,"auditRetentionDays":"90","endedParticipants":null}}',
    '{"settings":{"requestsPerMinute":-1}}',
    '{"settings":null}',
    '{"environment":{"toString":1}}',
    '{"environment":"__proto__"}',
    `{"environment":"mypurecloud.com","clientId":"${'x'.repeat(10_000)}","clientSecret":"s"}`,
    '{"clientId":"00000000-0000-0000-0000-000000000000","clientSecret":"wrong"}',
    '{"event":{"__proto__":{"type":"x"}},"sourceId":"src_nope"}',
    '{"event":[],"rule":null}',
    ...valid,
  ];
}

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/problem+json',
  'application/vnd.x+json',
  'application/json; charset=utf-16le',
  'application/json;;;',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=zz',
  'json',
  '',
] as const;

/** Path segments that are not ids: empty, encodings, traversal, huge, numeric edge cases. */
export const GARBAGE_SEGMENTS = [
  '',
  'x',
  'rule_',
  'evt_00000000000000000000000000',
  '%00',
  '%zz',
  '%',
  '..',
  '%2e%2e%2f%2e%2e',
  '%2F',
  '%F0%9F',
  '%F0%9F%98%80',
  'a'.repeat(3_000),
  '-1',
  '0',
  '1e309',
  'NaN',
  '99999999999999999999',
  '__proto__',
  'constructor',
  "'%20or%201=1--",
] as const;

/** Header values that are odd but legal on the wire (printable ASCII). */
export function oddHeaders(rng: Rng): Record<string, string> {
  const out: Record<string, string> = {};
  if (rng.chance(0.15)) out['x-request-id'] = rng.pick(['a'.repeat(200), '../../etc', 'ok-id', '%00']);
  if (rng.chance(0.1)) out['webhook-id'] = rng.pick(['', 'x'.repeat(300), 'msg']);
  if (rng.chance(0.1)) out['webhook-timestamp'] = rng.pick(['1e309', '-1', 'NaN', '', '9'.repeat(20)]);
  if (rng.chance(0.1)) out['webhook-signature'] = rng.pick(['v1,', `v1,${'A'.repeat(5_000)}`, 'v2,x y']);
  if (rng.chance(0.05)) out['idempotency-key'] = rng.pick(['', 'k'.repeat(300)]);
  if (rng.chance(0.05)) out['x-genesys-token'] = rng.pick(['', 'garbage', 'x'.repeat(4_000)]);
  if (rng.chance(0.03)) out['x-big'] = 'b'.repeat(rng.pick([8_000, 17_000]));
  return out;
}

const KEYS = ['"a"', '"type"', '"__proto__"', '"constructor"', '"prototype"', '""', '"\\u0000"', '"😀"'];
const SCALARS = [
  '1e309',
  '-0',
  '0.1',
  '123456789012345678901234567890',
  'true',
  'null',
  '"text with \\" and \\\\"',
  '"\\ud800"',
  '"\\u2028"',
  '"x"',
];

/**
 * A random JSON object as text, nested exactly `depth` levels (1 ≤ depth), with hostile-but-valid
 * keys and values, some keys repeated. The depth comes from one spine of arrays under "deep".
 */
export function randomObjectJson(rng: Rng, depth: number): string {
  const fields = Array.from({ length: 1 + rng.int(5) }, () => {
    const value = rng.chance(0.1) ? `"${'s'.repeat(rng.int(10_000))}"` : randomValue(rng, Math.min(depth, 4));
    return `${rng.pick(KEYS)}:${value}`;
  });
  if (depth > 1) fields.push(`"deep":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}`);
  return `{${fields.join(',')}}`;
}

function randomValue(rng: Rng, depthLeft: number): string {
  if (depthLeft <= 1 || rng.chance(0.5)) return rng.pick(SCALARS);
  const n = rng.int(4);
  if (rng.chance(0.5))
    return `[${Array.from({ length: n }, () => randomValue(rng, depthLeft - 1)).join(',')}]`;
  return `{${Array.from({ length: n }, () => `${rng.pick(KEYS)}:${randomValue(rng, depthLeft - 1)}`).join(',')}}`;
}

/** Runs `task` over `items`, at most `concurrency` at a time. */
export async function inPool<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
