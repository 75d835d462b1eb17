import { randomBytes } from 'node:crypto';

/** The prefixes of our ids; a tenant's id is its Genesys org UUID and has none. */
export type IdPrefix = 'src' | 'rule' | 'evt' | 'aud' | 'job' | 'att' | 'req';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case
let lastTime = -1;
let lastRandom = new Uint8Array(10);

/**
 * `prefix_` + a ULID-shaped, lower-case, 26-character body: 48 bits of milliseconds then 80 random
 * bits. Ids sort by creation time as strings; within one millisecond the random part is
 * incremented, so ids made by one process are strictly increasing (keyset pagination relies on it).
 * Prefixed string ids also avoid SQLite reusing integer ids of deleted rows.
 */
export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  if (now <= lastTime) {
    increment(lastRandom);
  } else {
    lastTime = now;
    lastRandom = new Uint8Array(randomBytes(10));
  }
  return `${prefix}_${encodeTime(lastTime)}${encodeRandom(lastRandom)}`;
}

function encodeTime(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  // 80 bits → 16 base32 characters, 5 bits at a time.
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

function increment(bytes: Uint8Array): void {
  for (let i = bytes.length - 1; i >= 0; i--) {
    const v = (bytes[i] ?? 0) + 1;
    bytes[i] = v & 0xff;
    if (v <= 0xff) return;
  }
}

/**
 * The smallest id of `prefix` made at `ms`: every id made before `ms` sorts below it, so "older
 * than" on an id column is a range on its index (retention cuts by it).
 */
export function idFloor(prefix: IdPrefix, ms: number): string {
  return `${prefix}_${encodeTime(ms)}${'0'.repeat(16)}`;
}
