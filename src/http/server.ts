import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Logger } from '../lib/logger.js';
import { answerClientError, answerRequestError } from './client-error.js';

export interface RunningServer {
  /** `http://host:port` with the port actually bound (useful with port 0). */
  readonly url: string;
  readonly port: number;
  /**
   * Stops accepting, lets in-flight requests finish (idle keep-alive sockets are closed at once),
   * and after `graceMs` cuts whatever is still open.
   */
  close(graceMs?: number): Promise<void>;
}

type FetchApp = { fetch: (req: Request) => Response | Promise<Response> };

/**
 * Serves a fetch-style app (ours, the emulator, a bench baseline) on node:http. Requests that
 * never reach the app, refused by Node's parser (`answerClientError`) or by node-server for a
 * target or Host it cannot make a URL of (`answerRequestError`), get a problem+json answer too,
 * logged to `logger` if given.
 */
export async function startServer(
  app: FetchApp,
  opts: { port: number; host: string; logger?: Logger },
): Promise<RunningServer> {
  // node-server's listener itself (createAdaptorServer does not pass an errorHandler on). Without
  // requireHostHeader Node would refuse a Host-less HTTP/1.1 request itself, with no body; node-server
  // refuses it instead, through answerRequestError.
  const server = createServer(
    { requireHostHeader: false },
    getRequestListener(app.fetch, { errorHandler: (err) => answerRequestError(err, opts.logger) }),
  );
  server.on('clientError', (err, socket) => answerClientError(err, socket, opts.logger));
  // Above Node's defaults so a load balancer's idle keep-alive (often 60 s) is closed by it, not us.
  server.keepAliveTimeout = 65_000;
  let closing = false;
  server.on('request', (_req, res) => {
    // While closing, a keep-alive socket whose last response just finished is closed at once
    // instead of holding shutdown open until the client's agent gives up on it.
    if (closing) res.setHeader('connection', 'close');
    res.on('finish', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
  });
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const shownHost = opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host;
  return {
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    port,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close((err) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
