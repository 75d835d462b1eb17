import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { RequestError } from '@hono/node-server';
import { AppError, type ErrorCode } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import { PROBLEM_CONTENT_TYPE, problemBody, problemResponse, problemStatus } from './problem.js';

/** Node's parser and timeout errors that mean something other than a plain 400. */
const ANSWERS: Record<string, { code: ErrorCode; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    code: 'headers_too_large',
    detail: 'The request line and headers are larger than this server accepts (16 KiB).',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    code: 'payload_too_large',
    detail: 'The chunk extensions of the request body are too large.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'request_timeout', detail: 'The request took too long to arrive.' },
};
const BAD_REQUEST = { code: 'bad_request', detail: 'The request is not valid HTTP/1.1.' } as const;

/**
 * For `server.on('clientError')`: Node's own parser refused the request before any route saw it
 * (a malformed request line, headers over the limit, a bad chunk size, a request too slow to
 * arrive). Node's default answers with no body and no request id; this answers like every other
 * error, as problem+json with an `x-request-id`, then closes the connection, since the rest of a
 * stream that failed to parse cannot be trusted. As Node does, it answers only while nothing of
 * a response went out on the socket; otherwise, or when it is already gone, it just destroys it.
 * These are the client's mistakes: logged at info at most.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, logger?: Logger): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const requestId = newId('req');
  const { code, detail } = ANSWERS[err.code ?? ''] ?? BAD_REQUEST;
  const problem = new AppError(code, detail);
  const status = problemStatus(problem);
  const body = JSON.stringify(problemBody(problem, requestId));
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    `content-type: ${PROBLEM_CONTENT_TYPE}`,
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    'connection: close',
  ];
  // Destroyed once written, not at once: destroying right away may drop what is still buffered.
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
  logger?.info('client_error', { requestId, status, reason: err.code ?? err.message });
}

/**
 * For node-server's `errorHandler`: a request whose target or Host it cannot make a URL of (no
 * Host, `OPTIONS *`, a bad absolute URL) never reaches the app, and its own answer is a bare 400.
 * Anything else here escaped the app's error mapping: a 500, logged in full like app.onError does.
 */
export function answerRequestError(err: unknown, logger?: Logger): Response {
  const requestId = newId('req');
  if (err instanceof RequestError) {
    logger?.info('client_error', { requestId, status: 400, reason: err.message });
    const detail = `The request target or Host header cannot be served (${err.message}).`;
    // As Node closes after its own answer to a Host-less request.
    return problemResponse(
      new AppError('bad_request', detail, { headers: { connection: 'close' } }),
      requestId,
    );
  }
  logger?.error('unhandled error', { requestId, err });
  return problemResponse(new AppError('internal', 'Something went wrong on our side.'), requestId);
}
