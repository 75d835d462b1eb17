/**
 * The load generator for signed ingest, in its own process: autocannon with every request signed
 * afresh (a new webhook-id each, so none is a duplicate). Prints autocannon's JSON result.
 * argv: url sourceId secret seconds connections
 */
import autocannon from 'autocannon';
import { sign } from '../../src/ingest/standard-webhooks.js';

const [url, sourceId, secret, seconds, connections] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
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

let n = 0;
autocannon(
  {
    url: `${url}/v1/hooks/${sourceId}`,
    connections: Number(connections),
    duration: Number(seconds),
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const id = `msg_${process.pid}_${n++}`;
          const ts = Math.floor(Date.now() / 1000);
          const body = event(n);
          return {
            ...req,
            body,
            headers: {
              'content-type': 'application/json',
              'webhook-id': id,
              'webhook-timestamp': String(ts),
              'webhook-signature': sign(secret, id, ts, body),
            },
          };
        },
      },
    ],
  },
  (err, result) => {
    if (err) throw err;
    process.stdout.write(JSON.stringify(result));
  },
);
