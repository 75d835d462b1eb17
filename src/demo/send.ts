import { exampleEvent, sendSigned } from './event.js';
import { demoSettings } from './settings.js';
import { readDemoState } from './state-file.js';

/**
 * `npm run demo:send -- '<json>'`: signs the event with the running demo's source secret (found in
 * demo.json beside the demo database), sends it, and prints the relay's answer. Without an
 * argument it sends the demo's example event. Exit 0 on a 2xx answer.
 */
async function main(): Promise<number> {
  const state = readDemoState(demoSettings().stateFile);
  const body = process.argv[2] ?? exampleEvent(state);
  try {
    JSON.parse(body);
  } catch {
    console.error(
      `not JSON: ${body}\nusage: npm run demo:send -- '{"conversationId":"…","order":{"status":"shipped"}}'`,
    );
    return 2;
  }
  const answer = await sendSigned(state.source, body);
  process.stdout.write(`${answer.status} ${answer.body}\n`);
  if (answer.status >= 200 && answer.status < 300) {
    process.stdout.write(`watch the customer's attributes: curl -s ${state.watchUrl}\n`);
    return 0;
  }
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
