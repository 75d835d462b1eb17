import { z } from '@hono/zod-openapi';

/**
 * What to do when the target participant ended while the conversation goes on (the customer hung
 * up, the agent is in wrap-up, when CRM case ids often arrive). Whether Genesys takes such a PATCH
 * is not documented: `skip` is the default.
 */
export const ENDED_PARTICIPANTS = ['skip', 'patch-until-conversation-ends'] as const;

export const EnvironmentBody = z.strictObject({
  environment: z.string().min(1).openapi({ example: 'mypurecloud.com' }),
});

export const InstallBody = z
  .strictObject({
    environment: z.string().min(1).openapi({ example: 'mypurecloud.ie' }),
    clientId: z.string().min(1).max(200).optional(),
    clientSecret: z.string().min(1).max(500).optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.clientId === undefined) !== (b.clientSecret === undefined)) {
      const missing = b.clientId === undefined ? 'clientId' : 'clientSecret';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'Give both clientId and clientSecret, or neither.',
      });
    }
  })
  .openapi('InstallRequest');

export const GrantBody = z
  .strictObject({ clientId: z.string().min(1).max(200), clientSecret: z.string().min(1).max(500) })
  .openapi('GrantRequest');

export const SettingsPatch = z
  .strictObject({
    settings: z.strictObject({
      requestsPerMinute: z.number().int().min(1).max(6000).optional(),
      auditRetentionDays: z.number().int().min(1).max(3650).optional(),
      endedParticipants: z.enum(ENDED_PARTICIPANTS).optional(),
      maxAttributeValueLength: z.number().int().min(1).max(100_000).optional(),
    }),
  })
  .openapi('TenantPatch');

const isoOrNull = z.string().nullable();

export const TenantSchema = z
  .object({
    orgId: z.string(),
    orgName: z.string(),
    environment: z.string(),
    installedAt: z.string(),
    role: z.enum(['admin', 'viewer']),
    settings: z.object({
      requestsPerMinute: z.number().int(),
      auditRetentionDays: z.number().int(),
      endedParticipants: z.enum(ENDED_PARTICIPANTS),
      maxAttributeValueLength: z.number().int(),
    }),
    grant: z.object({
      clientId: z.string(),
      managed: z.boolean(),
      status: z.enum(['ok', 'invalid_credentials', 'wrong_org', 'unreachable']),
      lastTokenAt: isoOrNull,
      lastError: z.string().nullable(),
      divisions: z
        .object({
          checkedAt: z.string(),
          total: z.number().int(),
          missing: z.array(z.object({ id: z.string(), name: z.string().nullable() })),
          advice: z.string().nullable(),
        })
        .nullable()
        .openapi({
          description:
            'The org’s divisions the grant’s roles do not reach (conversations there cannot be read), as last read at install, sign-in, a refused delivery or a re-grant. Null until first read.',
        }),
    }),
    license: z.object({
      status: z.enum(['licensed', 'unlicensed']),
      checkedAt: isoOrNull,
    }),
    delivery: z.object({
      pending: z.number().int(),
      oldestPendingAgeMs: z.number().nullable(),
      lastAppliedAt: isoOrNull,
      lastRateLimitedAt: isoOrNull,
    }),
  })
  .openapi('Tenant');

export const InstallProgressSchema = z
  .object({
    step: z.enum([
      'checking',
      'creating_role',
      'granting_role',
      'waiting_for_role',
      'creating_client',
      'done',
      'failed',
    ]),
    message: z.string(),
    startedAt: z.string(),
    waitedMs: z.number().int(),
    timeoutMs: z.number().int(),
    checks: z.number().int(),
  })
  .openapi('InstallProgress');

export const SessionSchema = z
  .object({
    token: z.string(),
    expiresAt: z.string(),
    orgId: z.string(),
    role: z.enum(['admin', 'viewer']),
    user: z.object({ id: z.string(), name: z.string() }),
  })
  .openapi('Session');
