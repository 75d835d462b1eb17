import type { Context } from 'hono';
import type { z } from 'zod';
import type { EmuEnv } from './core.js';
import { apiError, MAX_REQUEST_BYTES } from './errors.js';

export type BodyResult<T> = { ok: true; value: T } | { ok: false; response: Response };

/** `application/json`, parameters such as `charset` allowed; nothing else (not even `+json`). */
export function isJsonContentType(header: string | undefined): boolean {
  return header?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/**
 * The request's JSON body, checked in the platform's order: 415 content type, 413 size, 400 syntax.
 * `optional`: an empty body (with any content type) is fine and yields undefined.
 */
export function readJson(c: Context<EmuEnv>, optional = false): BodyResult<unknown> {
  const raw = c.var.rawBody;
  const empty = raw.trim() === '';
  if (empty && optional) return { ok: true, value: undefined };
  if (!isJsonContentType(c.req.header('content-type'))) return fail(apiError(c, 415));
  if (c.var.rawBytes > MAX_REQUEST_BYTES) return fail(apiError(c, 413));
  if (empty) return fail(apiError(c, 400, 'bad.request', 'A request body is required.'));
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return fail(apiError(c, 400, 'bad.request', 'The request body could not be parsed as JSON.'));
  }
}

/** readJson plus a zod schema; schema problems become 400 bad.request naming the field. */
export function readBody<S extends z.ZodType>(c: Context<EmuEnv>, schema: S): BodyResult<z.infer<S>> {
  const body = readJson(c);
  if (!body.ok) return body;
  const parsed = schema.safeParse(body.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  return fail(apiError(c, 400, 'bad.request', `${where}${issue?.message ?? 'invalid body'}`));
}

function fail<T>(response: Response): BodyResult<T> {
  return { ok: false, response };
}
