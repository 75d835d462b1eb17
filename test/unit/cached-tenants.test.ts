import { describe, expect, it } from 'vitest';
import { cachedTenants } from '../../src/tenants/cached-store.js';
import type { Tenant, TenantStore } from '../../src/tenants/store.js';

/** A store that counts its reads and can be told to fail the next one. */
function countingStore() {
  const rows = new Map<string, Tenant>();
  const state = { reads: 0, failNext: false };
  const store = {
    async get(orgId: string) {
      state.reads++;
      if (state.failNext) {
        state.failNext = false;
        throw new Error('database is locked');
      }
      return rows.get(orgId);
    },
    async updateSettings(orgId: string, settings: Partial<Tenant['settings']>) {
      const t = rows.get(orgId)!;
      rows.set(orgId, { ...t, settings: { ...t.settings, ...settings } });
    },
  } as unknown as TenantStore;
  rows.set('org', { orgId: 'org', settings: { requestsPerMinute: 300 } } as Tenant);
  return { store, state };
}

describe('cachedTenants', () => {
  it('reuses a read within its time, and reads again once a write went through it', async () => {
    const { store, state } = countingStore();
    const tenants = cachedTenants(store, 60_000);
    await Promise.all([tenants.get('org'), tenants.get('org')]);
    await tenants.get('org');
    expect(state.reads).toBe(1);
    await tenants.updateSettings('org', { requestsPerMinute: 100 }, {} as never);
    expect((await tenants.get('org'))?.settings.requestsPerMinute).toBe(100);
    expect(state.reads).toBe(2);
  });

  it('does not keep a failed read, and reads again after its time', async () => {
    const { store, state } = countingStore();
    const tenants = cachedTenants(store, 0);
    state.failNext = true;
    await expect(tenants.get('org')).rejects.toThrow('locked');
    expect((await tenants.get('org'))?.orgId).toBe('org');
    await tenants.get('org');
    expect(state.reads).toBe(3);
  });
});
