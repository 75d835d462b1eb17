/**
 * The load generator for signed ingest, in its own process: autocannon with every request signed
 * afresh (a new webhook-id each, so none is a duplicate). Prints autocannon's JSON result.
 * argv: url sourceId secret seconds connections [rate].
 *
 * With a rate (requests/s) the load is open instead: request i is sent at start + i / rate over at
 * most `connections` keep-alive sockets, and its latency counts from then, so a server that stalls
 * is charged for every request it kept waiting. autocannon's own rate limit sends each
 * connection's share of a second back to back at the start of it: latency in bursts, not pacing.
 * Prints the fields of autocannon's result that test/bench/run.ts reads.
 */
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { sign } from '../../src/ingest/standard-webhooks.js';

const [url, sourceId, secret, seconds, connections, rate] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string | undefined,
];

/** A realistic CRM event, about 1 KB. */
const event = (n: number) =>
  JSON.stringify({
    type: 'customer.updated',
    interactionId: '3f1b7a52-9c1e-4c1e-8d7e-5b2f0c9a1e77',
    occurredAt: new Date().toISOString(),
    sequence: n,
    customer: {
      id: `cus_${n}`,
      tier: n % 2 ? 'gold' : 'platinum',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      lifetimeValue: 18250.75,
      tags: ['vip', 'renewal-due', 'eu'],
      address: { line1: '12 St James Square', city: 'London', postcode: 'SW1Y 4JH', country: 'GB' },
    },
    lastPurchase: {
      orderId: `ord_${n}`,
      total: 249.9,
      currency: 'EUR',
      items: 3,
      at: '2026-11-24T09:12:00Z',
    },
    notes: 'x'.repeat(420),
  });

/** The headers and body of the n-th event, signed now (a new webhook-id each, never a repeat). */
function signed(n: number): { headers: Record<string, string>; body: string } {
  const id = `msg_${process.pid}_${n}`;
  const ts = Math.floor(Date.now() / 1000);
  const body = event(n);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': sign(secret, id, ts, body),
    },
  };
}

function closedLoop(): void {
  let n = 0;
  autocannon(
    {
      url: `${url}/v1/hooks/${sourceId}`,
      connections: Number(connections),
      duration: Number(seconds),
      requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, ...signed(n++) }) }],
    },
    (err, result) => {
      if (err) throw err;
      process.stdout.write(JSON.stringify(result));
    },
  );
}

/** One POST; resolves to its status (0 when the request failed). */
function post(agent: Agent, n: number): Promise<number> {
  const { headers, body } = signed(n);
  return new Promise((resolve) => {
    const req = request(`${url}/v1/hooks/${sourceId}`, { method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

async function openLoop(perSecond: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: Number(connections) });
  const total = Math.round(perSecond * Number(seconds));
  const latencies: number[] = [];
  const statuses = { ok: 0, other: 0, errors: 0 };
  const inFlight: Array<Promise<void>> = [];
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * perSecond) / 1000));
      for (; sent < due; sent++) {
        const at = start + (sent * 1000) / perSecond;
        const counted = post(agent, sent).then((status) => {
          latencies.push(performance.now() - at);
          if (status >= 200 && status < 300) statuses.ok++;
          else if (status === 0) statuses.errors++;
          else statuses.other++;
        });
        inFlight.push(counted);
      }
      if (sent < total) return;
      clearInterval(timer);
      done();
    }, 1);
  });
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
  agent.destroy();
  process.stdout.write(
    JSON.stringify({
      requests: { average: latencies.length / elapsed },
      latency: { p50: at(0.5), p99: at(0.99) },
      '2xx': statuses.ok,
      non2xx: statuses.other,
      errors: statuses.errors,
    }),
  );
}

if (rate) await openLoop(Number(rate));
else closedLoop();
