import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Writes `bytes` on a fresh TCP connection to the server at `url` and resolves with everything it
 * wrote back. `abort` closes our side right after writing (a client giving up mid-request);
 * otherwise it waits for the server to close, at most `timeoutMs` (then our side closes).
 */
export function rawExchange(
  url: string,
  bytes: string | Buffer,
  opts: { abort?: boolean; timeoutMs?: number } = {},
): Promise<Buffer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(() => socket.destroy(), opts.timeoutMs ?? 5_000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {}); // a reset by the server still resolves with what arrived
    socket.on('close', done);
    socket.on('connect', () => {
      socket.write(bytes, () => {
        if (opts.abort) socket.destroy();
      });
    });
  });
}

/**
 * The first final response in the bytes from `rawExchange` (a `100 Continue` before it is
 * skipped), or undefined when there is none.
 */
export function parseRawResponse(raw: Buffer): RawResponse | undefined {
  if (/^HTTP\/1\.1 1\d\d /.test(raw.subarray(0, 13).toString('latin1'))) {
    const interim = raw.indexOf('\r\n\r\n');
    return interim === -1 ? undefined : parseRawResponse(raw.subarray(interim + 4));
  }
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? Number.NaN);
  const rest = raw.subarray(end + 4);
  return { status, headers, body: (Number.isNaN(length) ? rest : rest.subarray(0, length)).toString('utf8') };
}
