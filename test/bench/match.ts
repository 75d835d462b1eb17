/**
 * Matching throughput (pure CPU, one core): an org with 1,000 rules across 50 event types and
 * 5 sources, against a realistic ~2 KB CRM event. Prints one JSON line for run.ts.
 */
import { compileRule } from '../../src/rules/compile.js';
import { RuleSet } from '../../src/rules/match.js';
import { RuleBodySchema } from '../../src/rules/schemas.js';

const TYPES = Array.from({ length: 50 }, (_, i) => `domain${i % 10}.event${i}`);
const SOURCES = ['src_a', 'src_b', 'src_c', 'src_d', 'src_e'];

/** `broad`: every rule accepts the event's tier, so ~60 rules match each event (a stress case). */
const buildRules = (broad: boolean) =>
  Array.from({ length: 1000 }, (_, i) => {
    const typed = i % 20 !== 0; // 5% have no $.type condition and are checked against every event
    const leaves = [
      ...(typed ? [{ path: '$.type', op: 'eq', value: TYPES[i % TYPES.length] }] : []),
      // Rules are specific: one in 25 asks for the event's tier, so an event matches a handful.
      {
        path: '$.customer.tier',
        op: 'in',
        value: broad || i % 25 === 0 ? ['gold', 'platinum'] : [`tier${i % 25}`, 'bronze'],
      },
      {
        any: [
          { path: '$.customer.lifetimeValue', op: 'gt', value: i * 10 },
          { path: '$.customer.tags', op: 'contains', value: 'vip' },
        ],
      },
      { not: { path: '$.customer.email', op: 'startsWith', value: `blocked${i}` } },
    ];
    const body = RuleBodySchema.parse({
      name: `rule ${i}`,
      priority: i % 300,
      sourceId: i % 4 === 0 ? null : SOURCES[i % SOURCES.length],
      when: { all: leaves },
      target: { conversationId: '$.interactionId' },
      set: {
        customer_tier: '{{ $.customer.tier }}',
        [`attr_${i % 40}`]: 'LTV {{ $.customer.lifetimeValue }}',
      },
    });
    return compileRule({ id: `rule_${String(i).padStart(4, '0')}`, version: 1, createdAt: i, body });
  });

const event = {
  type: TYPES[7],
  interactionId: '3f1b7a52-9c1e-4c1e-8d7e-5b2f0c9a1e77',
  occurredAt: '2026-11-25T12:00:00Z',
  customer: {
    id: 'cus_123',
    tier: 'platinum',
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    lifetimeValue: 18250.75,
    tags: ['vip', 'renewal-due', 'eu'],
    address: { line1: '12 St James Square', city: 'London', postcode: 'SW1Y 4JH', country: 'GB' },
  },
  orders: Array.from({ length: 6 }, (_, i) => ({
    id: `ord_${i}`,
    total: 100 + i,
    currency: 'EUR',
    items: i + 1,
    at: '2026-11-2' + i,
  })),
  notes: 'x'.repeat(1230),
};

const opts = { maxValueLength: 1024, explain: false };
const ms = Number(process.env.BENCH_MATCH_MS ?? 3000);

/** Events per second matched by one core for 1,000 rules; and dry runs (explain every miss). */
function measure(broad: boolean) {
  const rules = buildRules(broad);
  const set = new RuleSet(rules);
  let matched = 0;
  const run = (duration: number) => {
    const end = performance.now() + duration;
    let n = 0;
    while (performance.now() < end) {
      for (let k = 0; k < 100; k++)
        matched += set.match(event, SOURCES[n++ % SOURCES.length]!, opts).matches.length;
    }
    return n;
  };
  run(500); // warm up
  matched = 0;
  const n = run(ms);
  const explainStart = performance.now();
  let explained = 0;
  while (performance.now() - explainStart < 500) {
    set.match(event, 'src_a', { ...opts, explain: true });
    explained++;
  }
  return {
    rules: rules.length,
    eventsPerSec: (n / ms) * 1000,
    dryRunsPerSec: explained * 2,
    matchedPerEvent: matched / n,
  };
}

process.stdout.write(
  `${JSON.stringify({ eventBytes: JSON.stringify(event).length, typical: measure(false), broad: measure(true) })}\n`,
);
