import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from '../helpers/app.js';
import { launchBrowser, screenshot, seriousViolations } from '../helpers/browser.js';
import { startUiWorld, type UiWorld } from '../helpers/ui-world.js';
import { type SeededOrg, seedOrg, session } from '../helpers/world.js';

/**
 * Who may do what, and where the page may run: install with the admin's own client, a viewer
 * with no write control (and a 403 when forcing one), re-authentication that keeps the page,
 * the environment picker, the refusals, framing by a foreign origin, and the API reference.
 */
let world: UiWorld;
let org: SeededOrg;
let browser: Browser;

beforeAll(async () => {
  [world, browser] = await Promise.all([startUiWorld(), launchBrowser()]);
  org = seedOrg(world, 'Globex');
});
afterAll(async () => {
  await browser?.close();
  await world?.close();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(5_000);
  return page;
}

async function signIn(page: Page, user: string, url = world.pageUrl): Promise<void> {
  await page.goto(url);
  await page.getByRole('button', { name: `Sign in as ${user}` }).click();
}

describe('the admin page', () => {
  it('installs with the admin’s own OAuth client, naming a wrong secret on its field', async () => {
    const page = await newPage();
    await signIn(page, 'Globex Admin');
    await page.getByRole('heading', { name: 'Install Attribute Relay' }).waitFor();
    await page.getByLabel('Client ID', { exact: true }).fill(org.grant.clientId);
    await page.getByLabel('Client secret', { exact: true }).fill('not-the-secret');
    await page.getByRole('button', { name: 'Verify and install' }).click();
    await page.locator('[data-field="clientSecret"] [slot="error"]').waitFor();
    await page.getByLabel('Client secret', { exact: true }).fill(org.grant.clientSecret);
    await page.getByRole('button', { name: 'Verify and install' }).click();
    await page.getByRole('heading', { name: 'Health' }).waitFor();
    await page.getByText(`OAuth client ${org.grant.clientId}, given at install`).waitFor();
    await page.context().close();
  });

  it('shows a viewer everything read-only, and the API refuses a forced write', async () => {
    // Something to see: a source and a rule, made by the admin through the API.
    const admin = await session(
      world,
      world.emu.createUserToken(org.adminUserId, { vendorApp: { id: world.clientId } }),
    );
    const made = await world.call('POST', '/v1/sources', {
      token: admin,
      body: { name: 'ERP', auth: 'bearer' },
    });
    expect(made.status).toBe(201);
    const rule = await world.call('POST', '/v1/rules', {
      token: admin,
      body: {
        name: 'Order status',
        when: { path: '$.order.status', op: 'exists' },
        target: { conversationId: '$.conversationId' },
        set: { orderStatus: '{{ $.order.status }}' },
      },
    });
    expect(rule.status).toBe(201);
    const page = await newPage();
    await signIn(page, 'Globex Viewer');
    await page.getByText('Globex Viewer · viewer (read-only)').waitFor();
    const writes = [
      'Create source',
      'Rotate secret',
      'Delete',
      'Disable',
      'Save settings',
      'Verify and replace',
      'Uninstall',
      'Create rule',
      'Save rule',
    ];
    for (const [section, ready] of [
      ['Sources', 'Sources'],
      ['Rules', 'Rules'],
      ['Settings', 'Settings'],
    ] as const) {
      await page.getByRole('link', { name: section, exact: true }).click();
      await page.getByRole('heading', { name: ready, exact: true }).waitFor();
      if (section !== 'Settings')
        await page.getByRole('cell', { name: section === 'Sources' ? 'ERP' : 'Order status' }).waitFor();
      for (const name of writes)
        expect(await page.getByRole('button', { name }).count(), `${section}: ${name}`).toBe(0);
      expect(await page.getByRole('link', { name: 'New rule' }).count()).toBe(0);
      await screenshot(page, `viewer-${section.toLowerCase()}`);
      expect(await seriousViolations(page)).toEqual([]);
    }
    expect(await page.getByLabel('Requests per minute to Genesys Cloud', { exact: true }).isDisabled()).toBe(
      true,
    );
    expect(await page.getByLabel('Longest attribute value (characters)', { exact: true }).isDisabled()).toBe(
      true,
    );
    const status = await page.evaluate<number>(`fetch('/v1/sources', {
      method: 'POST',
      headers: {
        authorization: 'Bearer ' + JSON.parse(sessionStorage.getItem('relay.session')).session.token,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: 'sneaky', auth: 'bearer' }),
    }).then((r) => r.status)`);
    expect(status).toBe(403);
    await page.context().close();
  });

  it('signs in again when the session expires, and comes back to the same page', async () => {
    const page = await newPage();
    await signIn(page, 'Globex Admin');
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    // Loaded first, so the expiry meets the next request, not one still in flight.
    await page.locator('tr[data-kind="tenant.installed"]').first().waitFor();
    world.clock.advance(2 * 3_600_000); // our session lives 1 h
    await page.getByLabel('Kind', { exact: true }).fill('tenant.installed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('button', { name: 'Sign in as Globex Admin' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    expect(new URL(page.url()).hash).toBe('#/audit');
    expect(page.url()).not.toMatch(/code=|state=/);
    await page.context().close();
  });

  it('offers an environment picker when opened directly, and remembers only the environment', async () => {
    const page = await newPage();
    await page.goto(`${world.app.url}/`);
    await page.getByLabel('Genesys Cloud environment', { exact: true }).selectOption('mypurecloud.com');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'picker');
    await page.getByRole('button', { name: 'Sign in with Genesys Cloud' }).click();
    await page.getByRole('button', { name: 'Sign in as Globex Admin' }).click();
    await page.getByRole('heading', { name: 'Health' }).waitFor();
    expect(await page.evaluate('JSON.stringify(localStorage)')).toBe(
      '{"relay.environment":"mypurecloud.com"}',
    );
    await page.context().close();
  });

  it('refuses a host origin that is not Genesys Cloud, and says what the operator must set', async () => {
    const page = await newPage();
    await page.goto(
      `${world.app.url}/?gcHostOrigin=${encodeURIComponent('https://apps.mypurecloud.com.evil.io')}`,
    );
    await page.getByRole('heading', { name: 'This page cannot open here' }).waitFor();
    const bare = await startTestApp();
    try {
      await page.goto(`${bare.url}/`);
      await page.getByRole('heading', { name: 'Sign-in is not set up yet' }).waitFor();
      await page.getByText('GENESYS_OAUTH_CLIENT_ID').waitFor();
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      await bare.close();
      await page.context().close();
    }
  });

  it('refuses to be framed by a foreign origin', async () => {
    const res = await fetch(`${world.app.url}/`);
    expect(res.headers.get('content-security-policy')).toMatch(
      /frame-ancestors 'self' https:\/\/apps\.mypurecloud\.com /,
    );
    const foreign = await serveFramingPage(world.app.url);
    const page = await newPage();
    const refused = page.waitForEvent('console', (m) => m.text().includes('frame-ancestors'));
    try {
      await page.goto(foreign.url);
      await refused;
      const frame = page.frames().find((f) => f !== page.mainFrame());
      expect(await frame?.locator('#app').count()).toBe(0);
    } finally {
      await page.context().close();
      foreign.server.close();
    }
  });

  it('shows the API reference from /openapi.json under the same CSP', async () => {
    const page = await newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${world.app.url}/docs`);
    await page
      .getByRole('heading', { name: /attribute-relay/ })
      .first()
      .waitFor();
    await page.getByText('/v1/install', { exact: true }).first().waitFor({ state: 'attached' });
    // redoc's own "by Redocly" badge points at its CDN: the CSP blocks it, and nothing else fails.
    expect(errors.filter((e) => !e.includes('https://cdn.redoc.ly/'))).toEqual([]);
    await screenshot(page, 'docs');
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  });
});

/** A page on another 127.0.0.1 port that frames the app. */
async function serveFramingPage(target: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>foreign</title><iframe src="${target}/" title="relay"></iframe>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}
