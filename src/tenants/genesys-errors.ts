import type { Failure } from '../genesys/outcome.js';
import { AppError, type FieldError } from '../lib/errors.js';

/** Genesys did not answer usefully: 502 naming Genesys, with its correlation id for support. */
export function genesysUnavailable(f: Failure, environment: string): AppError {
  const ref = f.correlationId ? ` (correlation id ${f.correlationId})` : '';
  const what = f.kind === 'rate_limited' ? 'is rate limiting us' : `did not answer (${f.code}: ${f.message})`;
  return new AppError(
    'genesys_unavailable',
    `Genesys Cloud (${environment}) ${what}${ref}. Nothing was changed.`,
  );
}

/** The user token was refused, or is not a user token at all. */
export function userTokenRefused(f: Failure): AppError {
  return new AppError(
    'unauthorized',
    `Genesys Cloud did not accept the user token (${f.code}: ${f.message}).`,
    {
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    },
  );
}

/** A failure of a call made with an admin's user token while acting for them. */
export function userCallFailure(f: Failure, environment: string, action: string): AppError {
  if (f.kind === 'unauthorized') return userTokenRefused(f);
  if (f.kind === 'retryable' || f.kind === 'rate_limited') return genesysUnavailable(f, environment);
  if (f.status === 403) {
    return new AppError('forbidden', `Genesys Cloud refused to ${action}: ${f.message}`);
  }
  return new AppError(
    'genesys_unavailable',
    `Genesys Cloud could not ${action} (${f.status ?? '-'} ${f.code}: ${f.message}).`,
  );
}

export const grantInvalid = (errors: FieldError[], detail: string) =>
  new AppError('validation_failed', detail, { errors });

export function environmentRefused(environment: string): AppError {
  return new AppError(
    'bad_request',
    `${JSON.stringify(environment)} is not a Genesys Cloud environment (e.g. mypurecloud.com, mypurecloud.ie, usw2.pure.cloud).`,
  );
}
