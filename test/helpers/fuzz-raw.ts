/**
 * Raw HTTP/1.1 for the fuzz test, where fetch cannot go: request lines and headers Node's parser
 * refuses, lying framing, and clients that close mid-request. `answered`: the server must answer
 * (it closes the connection after, or the request asks it to); `abort`: our side closes right
 * after writing.
 */
export interface RawCase {
  name: string;
  bytes: string | Buffer;
  abort?: boolean;
  answered: boolean;
}

interface Ctx {
  acme: { source: { id: string } };
  fuzzAdmin: string;
}

const H = 'host: relay\r\n';
const CLOSE = 'connection: close\r\n';
const JSON_TYPE = 'content-type: application/json\r\n';

/** Bytes the server must answer (and then close on, or as asked). */
const answered =
  (name: string, bytes: string | Buffer): ((ctx: Ctx) => RawCase) =>
  () => ({
    name,
    bytes,
    answered: true,
  });

/** Headers promising more body than is sent, then our side closes. */
const shortBody =
  (name: string, path: (ctx: Ctx) => string, headers: (ctx: Ctx) => string) =>
  (ctx: Ctx): RawCase => ({
    name,
    bytes: `POST ${path(ctx)} HTTP/1.1\r\n${H}${JSON_TYPE}${headers(ctx)}content-length: 1000\r\n\r\n{"type":"cut`,
    abort: true,
    answered: false,
  });

const admin = (ctx: Ctx) => `authorization: Bearer ${ctx.fuzzAdmin}\r\n`;
const webhook = () => 'webhook-id: m\r\nwebhook-timestamp: 1\r\nwebhook-signature: v1,AAAA\r\n';
const hook = (ctx: Ctx) => `/v1/hooks/${ctx.acme.source.id}`;

export const RAW_CASES: ReadonlyArray<(ctx: Ctx) => RawCase> = [
  answered('no target', 'GET\r\n\r\n'),
  answered('HTTP/9.9', 'GET / HTTP/9.9\r\n\r\n'),
  answered('bad method token', 'G@T / HTTP/1.1\r\n\r\n'),
  answered('binary line', Buffer.from([0, 1, 2, 3, 0xff, 13, 10, 13, 10])),
  answered('extra on request line', 'GET /healthz HTTP/1.1 extra\r\n\r\n'),
  answered('request line of 20 KB', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\n${H}\r\n`),
  answered('a header of 20 KB', `GET /healthz HTTP/1.1\r\n${H}x-big: ${'a'.repeat(20_000)}\r\n\r\n`),
  answered('header without colon', `GET /healthz HTTP/1.1\r\n${H}no colon here\r\n\r\n`),
  answered('space before colon', `GET /healthz HTTP/1.1\r\n${H}x-a : b\r\n\r\n`),
  answered('folded header', `GET /healthz HTTP/1.1\r\n${H}x-a: b\r\n  folded\r\n\r\n`),
  answered('NUL in header', `GET /healthz HTTP/1.1\r\n${H}x-a: b\u0000c\r\n\r\n`),
  answered(
    'content-length and chunked',
    `POST /v1/rules HTTP/1.1\r\n${H}content-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`,
  ),
  answered(
    'two content-lengths',
    `POST /v1/rules HTTP/1.1\r\n${H}content-length: 1\r\ncontent-length: 2\r\n\r\nab`,
  ),
  answered('negative content-length', `POST /v1/rules HTTP/1.1\r\n${H}content-length: -1\r\n\r\n`),
  answered('content-length abc', `POST /v1/rules HTTP/1.1\r\n${H}content-length: abc\r\n\r\n`),
  answered(
    'chunk size zz',
    `POST /v1/rules HTTP/1.1\r\n${H}${JSON_TYPE}transfer-encoding: chunked\r\n\r\nzz\r\n`,
  ),
  answered('chunk size -1', `POST /v1/session HTTP/1.1\r\n${H}transfer-encoding: chunked\r\n\r\n-1\r\n`),
  answered(
    'chunk size overflow',
    `POST /v1/session HTTP/1.1\r\n${H}transfer-encoding: chunked\r\n\r\n${'f'.repeat(20)}\r\n`,
  ),
  answered(
    'chunk extensions of 20 KB',
    `POST /v1/session HTTP/1.1\r\n${H}transfer-encoding: chunked\r\n\r\n1;${'a'.repeat(20_000)}\r\nx\r\n`,
  ),
  (ctx) => ({
    name: 'ingest: bad chunk after a good one',
    bytes: `POST ${hook(ctx)} HTTP/1.1\r\n${H}${JSON_TYPE}${webhook()}transfer-encoding: chunked\r\n\r\n2\r\n{}\r\nzz\r\n`,
    answered: true,
  }),
  shortBody('ingest: short body', hook, webhook),
  shortBody('rules: short body', () => '/v1/rules', admin),
  shortBody('dry run: short body', () => '/v1/rules/test', admin),
  shortBody(
    'session: short body',
    () => '/v1/session',
    () => '',
  ),
  shortBody('tenant: short body', () => '/v1/tenant', admin),
  (ctx) => ({
    name: 'ingest: cut chunked body',
    bytes: `POST ${hook(ctx)} HTTP/1.1\r\n${H}${JSON_TYPE}${webhook()}transfer-encoding: chunked\r\n\r\n10\r\n{"a":`,
    abort: true,
    answered: false,
  }),
  () => ({
    name: 'headers cut',
    bytes: `POST /v1/rules HTTP/1.1\r\n${H}content-le`,
    abort: true,
    answered: false,
  }),
  answered('HTTP/1.0', 'GET /healthz HTTP/1.0\r\n\r\n'),
  answered('absolute form', `GET http://elsewhere.example/v1/tenant HTTP/1.1\r\n${H}${CLOSE}\r\n`),
  answered('asterisk form', `OPTIONS * HTTP/1.1\r\n${H}${CLOSE}\r\n`),
  answered('TRACE', `TRACE /v1/rules HTTP/1.1\r\n${H}${CLOSE}\r\n`),
  answered(
    'raw UTF-8 in path',
    Buffer.from(`GET /v1/rules/\u00e9\u{1f600} HTTP/1.1\r\n${H}${CLOSE}\r\n`, 'utf8'),
  ),
  answered('bad escape in path', `GET /v1/rules/%ff%zz HTTP/1.1\r\n${H}${CLOSE}\r\n`),
  answered('pipelined', `GET /healthz HTTP/1.1\r\n${H}\r\nGET /v1/nope HTTP/1.1\r\n${H}${CLOSE}\r\n`),
  answered(
    'expect 100-continue',
    `POST /v1/session HTTP/1.1\r\n${H}${JSON_TYPE}${CLOSE}expect: 100-continue\r\ncontent-length: 2\r\n\r\n{}`,
  ),
  answered(
    'gzip body that is not',
    `POST /v1/session HTTP/1.1\r\n${H}${JSON_TYPE}${CLOSE}content-encoding: gzip\r\ncontent-length: 2\r\n\r\n{}`,
  ),
  answered(
    'upgrade',
    `GET /v1/rules HTTP/1.1\r\n${H}${CLOSE}upgrade: websocket\r\nconnection: upgrade\r\n\r\n`,
  ),
];
