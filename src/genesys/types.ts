import { z } from 'zod';

/**
 * The parts of Genesys' response shapes we read (shared/genesys/openapi-subset.json). Parsers are
 * loose: unknown fields pass, optional fields may be absent or null, so a Genesys release that adds
 * fields never breaks us.
 */
const str = z.string();
const optStr = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);
const ref = z.looseObject({ id: str, name: optStr });

export const OrganizationSchema = z.looseObject({
  id: str,
  name: optStr,
  thirdPartyOrgName: optStr,
  domain: optStr,
  state: optStr,
});
export type Organization = z.infer<typeof OrganizationSchema>;

/** GET /api/v2/authorization/products: tolerant, as its shape is documented only loosely. */
export const ProductListSchema = z
  .looseObject({ entities: z.array(z.looseObject({ id: optStr, name: optStr })).default([]) })
  .transform((l) =>
    l.entities.flatMap((e) => [e.id, e.name].filter((x): x is string => typeof x === 'string')),
  );

/** One role granted in one division (OAuthClientRequest.roleDivisions; `roleIds` is deprecated). */
const RoleDivisionSchema = z.looseObject({ roleId: str, divisionId: str });
export type RoleDivision = z.infer<typeof RoleDivisionSchema>;

export const TokenInfoSchema = z.looseObject({
  organization: ref.nullish(),
  homeOrganization: ref.nullish(),
  authorizedScope: z.array(str).nullish(),
  OAuthClient: z
    .looseObject({
      id: str,
      name: optStr,
      organization: ref.nullish(),
      roleDivisions: z.array(RoleDivisionSchema).nullish(),
    })
    .nullish(),
});
export type TokenInfo = z.infer<typeof TokenInfoSchema>;

export const UserMeSchema = z.looseObject({
  id: str,
  name: optStr,
  email: optStr,
  authorization: z
    .looseObject({ permissions: z.array(str).nullish(), roles: z.array(ref).nullish() })
    .nullish(),
  organization: OrganizationSchema.nullish(),
});
export type UserMe = z.infer<typeof UserMeSchema>;

const CommunicationSchema = z.looseObject({ id: optStr, state: optStr, disconnectType: optStr });
export type Communication = z.infer<typeof CommunicationSchema>;

/** The media arrays a generic `Participant` may carry, each a list of communications with a `state`. */
export const MEDIA_KEYS = [
  'calls',
  'callbacks',
  'chats',
  'cobrowsesessions',
  'emails',
  'messages',
  'videos',
] as const;

export const ParticipantSchema = z.looseObject({
  id: str,
  purpose: optStr,
  startTime: optStr,
  endTime: optStr,
  attributes: z
    .record(str, z.unknown())
    .nullish()
    .transform((a) => stringAttributes(a)),
  ...Object.fromEntries(MEDIA_KEYS.map((k) => [k, z.array(CommunicationSchema).nullish()])),
});
export type Participant = z.infer<typeof ParticipantSchema> & {
  [K in (typeof MEDIA_KEYS)[number]]?: Communication[] | null;
};

export const ConversationSchema = z.looseObject({
  id: str,
  startTime: optStr,
  /** Present once the conversation has ended (shared/genesys §4: never read `state`). */
  endTime: optStr,
  participants: z.array(ParticipantSchema),
});
export type Conversation = Omit<z.infer<typeof ConversationSchema>, 'participants'> & {
  participants: Participant[];
};

export const RoleSchema = z.looseObject({ id: str, name: optStr });
export type Role = z.infer<typeof RoleSchema>;
export const RolePageSchema = z.looseObject({
  entities: z
    .array(RoleSchema)
    .nullish()
    .transform((e) => e ?? []),
});

/** AuthzDivision, from GET /api/v2/authorization/divisions ("requires no permissions"). */
export const DivisionSchema = z.looseObject({ id: str, name: optStr, homeDivision: z.boolean().nullish() });
export type Division = z.infer<typeof DivisionSchema>;
export const DivisionPageSchema = z.looseObject({
  entities: z
    .array(DivisionSchema)
    .nullish()
    .transform((e) => e ?? []),
  pageCount: z.number().nullish(),
});

export const OAuthClientSchema = z.looseObject({
  id: str,
  name: optStr,
  secret: optStr,
  authorizedGrantType: optStr,
  state: optStr,
  roleIds: z.array(str).nullish(),
  roleDivisions: z.array(RoleDivisionSchema).nullish(),
});
export type OAuthClient = z.infer<typeof OAuthClientSchema>;

export interface PermissionPolicy {
  domain: string;
  entityName: string;
  actionSet: string[];
}

export interface NewRole {
  name: string;
  description?: string;
  permissionPolicies: PermissionPolicy[];
}

export interface NewOAuthClient {
  name: string;
  description?: string;
  authorizedGrantType: 'CLIENT-CREDENTIALS';
  accessTokenValiditySeconds?: number;
  /** Where each role applies: a role without one is scoped to the Home division only. */
  roleDivisions: RoleDivision[];
  state?: 'Active' | 'Disabled' | 'Inactive';
}

/** Attribute values are strings in Genesys; anything else is dropped rather than trusted. */
function stringAttributes(a: Record<string, unknown> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!a) return out;
  for (const [k, v] of Object.entries(a)) if (typeof v === 'string') out[k] = v;
  return out;
}
