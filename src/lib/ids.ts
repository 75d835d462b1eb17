import { randomBytes } from 'node:crypto';

/** The prefixes of our ids; a tenant's id is its Genesys org UUID and has none. */
export type IdPrefix = 'src' | 'rule' | 'evt' | 'aud' | 'job' | 'att' | 'req';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case
/**
 * Per prefix: ids of one kind are strictly increasing, and an audit id's time is its row's `at`
 * (retention and time-range filters read it), whatever clock other kinds of id were made with.
 */
const last = new Map<IdPrefix, { time: number; random: Uint8Array }>();

/**
 * `prefix_` + a ULID-shaped, lower-case, 26-character body: 48 bits of milliseconds then 80 random
 * bits. Ids sort by creation time as strings; within one millisecond the random part is
 * incremented, so ids of one prefix made by one process are strictly increasing (keyset pagination
 * relies on it).
 * Prefixed string ids also avoid SQLite reusing integer ids of deleted rows.
 */
export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  let state = last.get(prefix);
  if (state && now <= state.time) {
    // All 80 bits used up within the millisecond: borrow the next one, so ids still increase.
    if (increment(state.random)) state.time += 1;
  } else {
    state = { time: now, random: new Uint8Array(randomBytes(10)) };
    last.set(prefix, state);
  }
  return `${prefix}_${encodeTime(state.time)}${encodeRandom(state.random)}`;
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

/** Adds one; true when it carried out of the top byte (wrapped to zero). */
function increment(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 1; i >= 0; i--) {
    const v = (bytes[i] ?? 0) + 1;
    bytes[i] = v & 0xff;
    if (v <= 0xff) return false;
  }
  return true;
}

/**
 * Makes this process's next ids of `prefix` sort after `id` (an id another instance made): where
 * several instances write one table, reading its largest id first and raising the floor to it
 * keeps the table's ids in the order of what caused them (an event accepted after another's 202
 * sorts after it, whichever instance took each and whatever their clocks say).
 */
export function raiseIdFloor(prefix: IdPrefix, id: string): void {
  const body = id.slice(prefix.length + 1);
  if (!id.startsWith(`${prefix}_`) || body.length !== 26) return;
  const time = decode(body.slice(0, 10));
  const random = new Uint8Array(10);
  let acc = 0n;
  for (const ch of body.slice(10)) acc = (acc << 5n) | BigInt(ALPHABET.indexOf(ch));
  for (let i = 9; i >= 0; i--) {
    random[i] = Number(acc & 0xffn);
    acc >>= 8n;
  }
  const state = last.get(prefix);
  if (!state || `${encodeTime(state.time)}${encodeRandom(state.random)}` < body) {
    last.set(prefix, { time, random });
  }
}

function decode(chars: string): number {
  let n = 0;
  for (const ch of chars) n = n * 32 + ALPHABET.indexOf(ch);
  return n;
}

/**
 * The smallest id of `prefix` made at `ms`: every id made before `ms` sorts below it, so "older
 * than" on an id column is a range on its index (retention cuts by it).
 */
export function idFloor(prefix: IdPrefix, ms: number): string {
  return `${prefix}_${encodeTime(ms)}${'0'.repeat(16)}`;
}
