import { GenesysEmulator } from './index.js';

/** `npm run emulator`: a standalone emulator for demos, driven through /__emulator/. */
async function main(): Promise<void> {
  const port = Number.parseInt(process.env.EMULATOR_PORT ?? '9090', 10);
  const host = process.env.EMULATOR_HOST ?? '127.0.0.1';
  const emulator = new GenesysEmulator();
  const running = await emulator.listen({ port, host });
  process.stdout.write(`${JSON.stringify({ msg: 'genesys emulator listening', url: running.url })}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(JSON.stringify({ msg: 'genesys emulator: close failed', signal, err: String(err) }));
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ msg: 'genesys emulator failed to start', err: String(err) }));
  process.exit(1);
});
