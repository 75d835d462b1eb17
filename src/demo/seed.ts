import type { GenesysEmulator } from '../emulator/index.js';
import { loadManifest, permissionFor } from '../tenants/manifest.js';

export const ENVIRONMENT = 'mypurecloud.com';

export interface SeededGenesys {
  vendorClient: { id: string; name: string; redirectUri: string };
  org: { id: string; name: string };
  admin: { id: string; name: string; email: string };
  viewer: { id: string; name: string; email: string };
  conversationId: string;
  customerParticipantId: string;
}

/**
 * Genesys' side: the app's own CODE client in the vendor's org (what GENESYS_OAUTH_CLIENT_ID
 * names), the customer org Acme with an admin allowed to install and a viewer, and a live
 * conversation with a customer and an agent.
 */
export function seedGenesys(emu: GenesysEmulator, redirectUri: string): SeededGenesys {
  const manifest = loadManifest();
  const vendorOrg = emu.createOrg({ name: 'attribute-relay vendor' });
  const vendorClient = emu.createClient({
    orgId: vendorOrg.id,
    name: 'attribute-relay',
    authorizedGrantType: 'CODE',
    registeredRedirectUri: [redirectUri],
  });
  const org = emu.createOrg({ name: 'Acme' });
  const admin = emu.createUser({
    orgId: org.id,
    name: 'Ada Admin',
    permissions: [
      permissionFor(manifest, 'admin'),
      ...manifest.install.userPermissions,
      ...manifest.install.uninstallUserPermissions,
    ],
  });
  const viewer = emu.createUser({
    orgId: org.id,
    name: 'Victor Viewer',
    permissions: [permissionFor(manifest, 'viewer')],
  });
  const conversation = emu.createConversation({
    orgId: org.id,
    participants: [
      { purpose: 'customer', name: 'Casey Customer', attributes: { orderStatus: 'processing' } },
      { purpose: 'agent', name: 'Alex Agent' },
    ],
  });
  const customer = conversation.participants.find((p) => p.purpose === 'customer');
  if (!customer) throw new Error('the demo conversation has no customer');
  const person = (u: { id: string; name: string; email: string }) => ({
    id: u.id,
    name: u.name,
    email: u.email,
  });
  return {
    vendorClient: { id: vendorClient.id, name: 'attribute-relay', redirectUri },
    org: { id: org.id, name: org.name },
    admin: person(admin),
    viewer: person(viewer),
    conversationId: conversation.id,
    customerParticipantId: customer.id,
  };
}

export interface SeededRelay {
  source: { id: string; name: string; secret: string; ingestUrl: string };
  ruleIds: string[];
}

/**
 * The relay's side, through its public API with the admin's Genesys token: install (the relay
 * provisions its role and client-credentials grant in Acme), a session, a Standard Webhooks source
 * and two rules.
 */
export async function seedRelay(relayUrl: string, adminToken: string): Promise<SeededRelay> {
  const call = async (path: string, bearer: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${relayUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  await call('/v1/install', adminToken, { environment: ENVIRONMENT });
  const session = (await call('/v1/session', adminToken, { environment: ENVIRONMENT })).token as string;
  const source = (await call('/v1/sources', session, {
    name: 'Demo CRM',
    auth: 'standard-webhooks',
  })) as unknown as SeededRelay['source'];
  const target = { conversationId: '$.conversationId', participant: { purpose: 'customer' } };
  const rules = [
    {
      name: 'Order status',
      when: { path: '$.order.status', op: 'exists' },
      set: { orderStatus: '{{ $.order.status }}' },
    },
    {
      name: 'CRM tier',
      when: { path: '$.customer.tier', op: 'exists' },
      set: { crmTier: '{{ $.customer.tier }}' },
    },
  ];
  const ruleIds: string[] = [];
  for (const rule of rules) {
    ruleIds.push((await call('/v1/rules', session, { ...rule, sourceId: source.id, target })).id as string);
  }
  return {
    source: { id: source.id, name: source.name, secret: source.secret, ingestUrl: source.ingestUrl },
    ruleIds,
  };
}
