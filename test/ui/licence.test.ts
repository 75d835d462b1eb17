import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { startUiWorld, type UiWorld } from '../helpers/ui-world.js';
import { ENV, seedOrg } from '../helpers/world.js';

/** An org that no longer holds the app sees it on the health page at its next sign-in. */
const PRODUCT = 'attribute-relay-premium';
let world: UiWorld;
let browser: Browser;

beforeAll(async () => {
  [world, browser] = await Promise.all([
    startUiWorld({ env: { GENESYS_PRODUCT_ID: PRODUCT } }),
    launchBrowser(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await world?.close();
});

describe('licensing on the admin page', () => {
  it('says plainly that events are refused and deliveries wait, and that nothing was deleted', async () => {
    const org = seedOrg(world, 'Initech');
    world.emu.setProducts(org.orgId, [PRODUCT]);
    const token = world.emu.createUserToken(org.adminUserId, { vendorApp: { id: world.clientId } });
    const res = await world.call('POST', '/v1/install', { token, body: { environment: ENV } });
    expect(res.status).toBe(201);
    world.emu.setProducts(org.orgId, []);
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(5_000);
    await page.goto(world.pageUrl);
    await page.getByRole('button', { name: 'Sign in as Initech Admin' }).click();
    await page.getByRole('heading', { name: 'Health' }).waitFor();
    await page.getByText('Needs attention').waitFor();
    await page.getByText('no longer holds Attribute Relay in Genesys Cloud').waitFor();
    await screenshot(page, 'health-unlicensed');
    await page.context().close();
  });
});
