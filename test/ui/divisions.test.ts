import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { startUiWorld, type UiWorld } from '../helpers/ui-world.js';
import { ENV, seedOrg } from '../helpers/world.js';

/**
 * What an admin sees of Genesys' slow role propagation while installing, and of divisions made
 * after install: the health page names them and re-grants them in one click.
 */
let world: UiWorld;
let browser: Browser;

beforeAll(async () => {
  [world, browser] = await Promise.all([startUiWorld(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await world?.close();
});

async function signIn(name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(5_000);
  await page.goto(world.pageUrl);
  await page.getByRole('button', { name: `Sign in as ${name}` }).click();
  return page;
}

describe('divisions and provisioning on the admin page', () => {
  it('shows the wait for Genesys to let the new role be used, then installs', async () => {
    seedOrg(world, 'Globex');
    world.emu.configure({ roleGrantDelayMs: 5_000 });
    const page = await signIn('Globex Admin');
    await page.getByText('You hold every permission the install needs.').waitFor();
    await page.getByRole('button', { name: 'Create the client and install' }).click();
    await page.getByText('Waiting for Genesys Cloud to let you use the role').waitFor();
    await page.getByText('of at most 60 s').waitFor();
    await screenshot(page, 'install-waiting');
    // Two more checks of users/me, 3 s apart on the server's clock.
    for (let i = 0; i < 2; i++) {
      await expect.poll(() => world.clock.sleeping).toBe(1);
      world.clock.advance(3_000);
    }
    await page.getByRole('heading', { name: 'Health' }).waitFor();
    world.emu.configure({ roleGrantDelayMs: 0 });
    await page.context().close();
  });

  it('names divisions out of reach and re-grants them in one click', async () => {
    const org = seedOrg(world, 'Initech');
    const token = world.emu.createUserToken(org.adminUserId, { vendorApp: { id: world.clientId } });
    expect((await world.call('POST', '/v1/install', { token, body: { environment: ENV } })).status).toBe(201);
    world.emu.createDivision({ orgId: org.orgId, name: 'Support' });
    world.clock.advance(10 * 60_000);
    // A viewer reads what is out of reach but is offered nothing to change.
    const viewer = await signIn('Initech Viewer');
    await viewer.getByText('Out of reach: Support').waitFor();
    await screenshot(viewer, 'health-divisions-viewer');
    expect(await viewer.getByRole('button', { name: 'Re-grant divisions' }).count()).toBe(0);
    await viewer.context().close();
    const page = await signIn('Initech Admin');
    await page.getByRole('heading', { name: 'Health' }).waitFor();
    await page.getByText('Needs attention').waitFor();
    await page.getByText('Out of reach: Support').waitFor();
    await screenshot(page, 'health-divisions');
    await page.getByRole('button', { name: 'Re-grant divisions' }).click();
    await page.getByText('All 2 divisions reachable').waitFor();
    await page.getByText('Healthy').waitFor();
    const client = world.emu.listOAuthClients(org.orgId).find((c) => c.name !== 'given grant');
    expect(client?.roleDivisions).toHaveLength(2);
    await page.context().close();
  });
});
