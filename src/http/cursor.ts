import { z } from '@hono/zod-openapi';

/** Keyset pages: the cursor is the last item's id, base64url (opaque to clients). */
export const encodeCursor = (id: string): string => Buffer.from(id).toString('base64url');
export const decodeCursor = (c: string): string => Buffer.from(c, 'base64url').toString();

/** The `cursor` query parameter: only one this API handed out (an id of `idPattern`) passes. */
export const cursorParam = (idPattern: RegExp) =>
  z
    .string()
    .optional()
    .refine((c) => c === undefined || idPattern.test(decodeCursor(c)), {
      message: 'not a cursor from a previous page',
    });
