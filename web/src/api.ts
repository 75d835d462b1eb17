import { t } from './i18n.js';
import type { Session } from './types.js';

/** A problem+json answer (or a network failure dressed as one). */
export interface Problem {
  status: number;
  title: string;
  detail: string;
  code: string;
  errors?: Array<{ path: string; message: string }>;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title);
  }
  get status(): number {
    return this.problem.status;
  }
}

type Hooks = { session: () => Session | null; onExpired: () => void };
let hooks: Hooks = { session: () => null, onExpired: () => {} };

/** Wires the session in and what to do when our API says it expired (sign in again). */
export function configureApi(h: Hooks): void {
  hooks = h;
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const token = hooks.session()?.token;
  const res = await fetchOrProblem(path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 401 && token) hooks.onExpired();
  return readJson<T>(res);
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
    request<T>('POST', path, body ?? {}, headers),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  del: (path: string, headers?: Record<string, string>) => request<void>('DELETE', path, undefined, headers),
};

export async function fetchOrProblem(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    throw new ApiError({
      status: 0,
      title: t('error.network'),
      detail: t('error.unreachable', { url }),
      code: 'network',
    });
  }
}

export async function readJson<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const parsed = text ? safeParse(text) : undefined;
  if (!res.ok) {
    const p = (parsed ?? {}) as Partial<Problem>;
    throw new ApiError({
      status: res.status,
      title: p.title ?? res.statusText,
      detail: p.detail ?? text.slice(0, 300),
      code: p.code ?? String(res.status),
      ...(p.errors ? { errors: p.errors } : {}),
    });
  }
  return parsed as T;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A query string of the non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
