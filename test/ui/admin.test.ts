import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, seriousViolations } from '../helpers/browser.js';
import { signedPost } from '../helpers/signed.js';
import { startUiWorld, type UiWorld } from '../helpers/ui-world.js';
import { rowsPerTable, type SeededOrg, seedOrg } from '../helpers/world.js';

/**
 * An org admin's whole first day in a real Chromium, against the real server and the emulator:
 * PKCE sign-in, install, a source, a rule (with a mistake first), dry run, a signed event reaching
 * Genesys, its timeline, the audit, settings, uninstall. One browser and one world for the file;
 * the steps run in order and build on each other.
 */
let world: UiWorld;
let org: SeededOrg;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let source: { id: string; secret: string };
let conversationId: string;

beforeAll(async () => {
  [world, browser] = await Promise.all([startUiWorld(), launchBrowser()]);
  org = seedOrg(world, 'Acme');
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: world.app.url });
  page = await context.newPage();
  // A step that cannot happen fails in seconds, naming what it waited for.
  page.setDefaultTimeout(5_000);
});
afterAll(async () => {
  await browser?.close();
  await world?.close();
});

const button = (name: string | RegExp) => page.getByRole('button', { name, exact: typeof name === 'string' });
const heading = (name: string | RegExp) => page.getByRole('heading', { name });

/** No serious or critical axe violation on the page as it is, and a screenshot of it. */
async function checkPage(name: string): Promise<void> {
  await screenshot(page, `admin-${name}`);
  expect(await seriousViolations(page)).toEqual([]);
}

describe('an org admin in the browser', () => {
  it('signs in with PKCE from Genesys Cloud and installs by letting us create the client', async () => {
    await page.goto(world.pageUrl);
    await button('Sign in as Acme Admin').click();
    await heading('Install Attribute Relay').waitFor();
    // Nothing of the round trip stays in the address bar: the page's own query is back.
    expect(page.url()).toBe(world.pageUrl);
    await page.getByText('You hold every permission the install needs.').waitFor();
    await checkPage('install');
    await button('Create the client and install').click();
    await heading('Health').waitFor();
    await page.getByText('Working: Genesys Cloud accepts our credentials').waitFor();
    await page.getByText('Nothing waiting').waitFor();
    expect(await page.evaluate('Object.keys(localStorage)')).toEqual([]);
    // From the keyboard, the first stop skips to the content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await checkPage('health');
  });

  it('creates a source and copies its secret, shown once with ready examples', async () => {
    await page.getByRole('link', { name: 'Sources', exact: true }).click();
    await page.getByLabel('Name', { exact: true }).fill('CRM');
    await button('Create source').click();
    await heading('Secret of CRM').waitFor();
    const secret = await page.getByLabel('Secret', { exact: true }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    await button('Copy secret').click();
    await page.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    await page.getByText('import { Webhook } from').waitFor();
    await checkPage('source-secret');
    await button('I have stored the secret').click();
    const items = (await (
      await world.call('GET', '/v1/sources', { token: await sessionToken() })
    ).json()) as {
      items: Array<{ id: string }>;
    };
    source = { id: items.items[0]!.id, secret };
    await page.getByRole('cell', { name: 'CRM', exact: true }).waitFor();
  });

  it('rotates the secret behind a confirmation, and says how long the old one still works', async () => {
    await button(/^Rotate secret of CRM/).click();
    const dialog = page.locator('gux-modal');
    await dialog.getByText('The current one keeps working for 24 hours').waitFor();
    await checkPage('rotate-dialog');
    await dialog.getByRole('button', { name: 'Rotate secret', exact: true }).click();
    await page.getByText('The previous secret keeps working until').waitFor();
    const rotated = await page.getByLabel('Secret', { exact: true }).inputValue();
    expect(rotated).not.toBe(source.secret);
    source = { ...source, secret: rotated };
    await button('I have stored the secret').click();
  });

  it('deletes a source behind a confirmation dialog that Escape cancels', async () => {
    await page.getByLabel('Name', { exact: true }).fill('Legacy');
    await button('Create source').click();
    await button('I have stored the secret').click();
    await button(/^Delete Legacy/).click();
    await page.locator('gux-modal').getByText('Its URL stops accepting events at once.').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('gux-modal').count()).toBe(0);
    await button(/^Delete Legacy/).click();
    await page.locator('gux-modal').getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => page.getByRole('cell', { name: 'Legacy', exact: true }).count()).toBe(0);
    await page.getByRole('cell', { name: 'CRM', exact: true }).waitFor();
  });

  it('writes a rule with a mistake, sees the error on the field, fixes it and saves', async () => {
    await page.getByRole('link', { name: 'Rules', exact: true }).click();
    await page.getByRole('link', { name: 'New rule' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Tier from CRM');
    await page.getByLabel('Source', { exact: true }).selectOption({ label: 'CRM' });
    await page.getByLabel('Condition 1: path', { exact: true }).fill('$..type');
    await button('Create rule').click();
    const pathError = page.locator('[data-field="f-when-all-0-path"] [slot="error"]');
    await pathError.waitFor();
    expect(await pathError.textContent()).toMatch(/\.\./);
    // The JSON view follows the form.
    expect(
      JSON.parse(await page.getByLabel('Rule as JSON', { exact: true }).inputValue()).when.all[0].path,
    ).toBe('$..type');
    // …and the form follows the JSON view.
    const json = JSON.parse(await page.getByLabel('Rule as JSON', { exact: true }).inputValue());
    await page
      .getByLabel('Rule as JSON', { exact: true })
      .fill(JSON.stringify({ ...json, priority: 150 }, null, 2));
    expect(await page.getByLabel('Priority', { exact: true }).inputValue()).toBe('150');
    await page.getByLabel('Condition 1: path', { exact: true }).fill('$.type');
    await button('Create rule').click();
    await page.getByText('Saved as version 1.').waitFor();
    await heading('Rule: Tier from CRM').waitFor();
    expect(page.url()).toMatch(/#\/rules\/rule_/);
    await checkPage('rule-editor');
  });

  it('dry-runs the rule on a pasted event and sees the exact PATCH body', async () => {
    const conv = world.emu.createConversation({
      orgId: org.orgId,
      participants: [{ purpose: 'customer' }, { purpose: 'agent' }],
    });
    conversationId = conv.id;
    const event = { type: 'customer.updated', interactionId: conversationId, customer: { tier: 'gold' } };
    await page.getByLabel('Event (JSON)', { exact: true }).fill(JSON.stringify(event));
    await button('Run dry run').click();
    const result = page.getByTestId('dry-run-result');
    await result.getByText('Matching rules: 1').waitFor();
    expect(await result.locator('pre').first().textContent()).toBe(
      JSON.stringify({ attributes: { customer_tier: 'gold' } }, null, 2),
    );
  });

  it('watches a signed event reach Genesys in the events view, and its timeline', async () => {
    const event = { type: 'customer.updated', interactionId: conversationId, customer: { tier: 'platinum' } };
    expect((await signedPost(world.app.url, source, event, 'msg-ui-1')).status).toBe(202);
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    // Exact: the rule editor, still shown until the router renders the events page, has a field
    // labelled "Conversation id (path in the event)". Once in a full CI run the fill went there,
    // the events filter stayed empty, and the poll below passed on the unfiltered list.
    await page.getByLabel('Conversation id', { exact: true }).fill(conversationId);
    await button('Filter').click();
    // The filter applied (the page links to its lineage), so the rows below are this conversation's.
    const lineage = page.getByRole('link', { name: /lineage/ });
    await lineage.waitFor();
    // Delivery is asynchronous: refresh until the row says applied (no sleeps, a bounded poll).
    const applied = page.locator('[data-outcome="applied"]');
    await expect
      .poll(
        async () => {
          await button('Refresh').click();
          return applied.count();
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe(1);
    expect(world.emu.getConversation(conversationId)?.participants[0]?.attributes).toEqual({
      customer_tier: 'platinum',
    });
    await checkPage('events');
    await lineage.click();
    const written = page.locator('tr[data-attribute="customer_tier"]');
    await written.getByRole('cell', { name: 'platinum' }).waitFor();
    await checkPage('lineage');
    await page.goBack();
    await page.getByRole('link', { name: /^evt_/ }).click();
    await page.locator('[data-kind="patch.applied"]').waitFor();
    await checkPage('event-detail');
    await button('Replay').click();
    await page.locator('gux-modal').getByRole('button', { name: 'Replay' }).click();
    await page.getByText('Replay queued.').waitFor();
    await page.locator('[data-kind="event.replayed"]').waitFor();
  });

  it('backtests the rule against the stored event', async () => {
    await page.getByRole('link', { name: 'Rules', exact: true }).click();
    await page.getByRole('link', { name: 'Tier from CRM' }).click();
    // The dry run can start from a stored event of the rule's source.
    await page.getByLabel('Recent event', { exact: true }).selectOption({ index: 1 });
    await expect
      .poll(() => page.getByLabel('Event (JSON)', { exact: true }).inputValue())
      .toContain('platinum');
    await button('Run dry run').click();
    await page.getByTestId('dry-run-result').getByText('Matching rules: 1').waitFor();
    await page.getByLabel('Recent events to test', { exact: true }).fill('10');
    await button('Run backtest').click();
    await page
      .getByTestId('backtest-result')
      .getByText('Of the last 1 events: 1 matched, 0 missed')
      .waitFor();
  });

  it('disables the rule in one click, and diffs the two versions', async () => {
    await page.getByRole('link', { name: 'Rules', exact: true }).click();
    await button(/^Disable Tier from CRM/).click();
    await page.getByRole('cell', { name: 'Off', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Tier from CRM' }).click();
    await page.locator('.diff .removed', { hasText: '"enabled": true' }).waitFor();
    await page.locator('.diff .added', { hasText: '"enabled": false' }).waitFor();
  });

  it('filters the audit log, and downloads it with the same filters', async () => {
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByLabel('Kind', { exact: true }).fill('patch.applied');
    await button('Filter').click();
    await expect.poll(() => page.locator('tr[data-kind]').count()).toBe(1);
    await page.locator('tr[data-kind="patch.applied"]').waitFor();
    await checkPage('audit');
    // The export needs our bearer session, so the page fetches it and hands over a file.
    const [file] = await Promise.all([page.waitForEvent('download'), button('Download CSV').click()]);
    expect(file.suggestedFilename()).toMatch(/\.csv$/);
    const csv = readFileSync((await file.path())!, 'utf8');
    expect(csv).toContain('patch.applied');
    expect(csv).not.toContain('event.received');
    await button('Verify the audit chain').click();
    await page.getByText(/^Intact: \d+ entries chained/).waitFor();
  });

  it('changes settings (a value out of range is named on its field) and uninstalls by typing the org name', async () => {
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    const maxLength = page.getByLabel('Longest attribute value (characters)', { exact: true });
    expect(await maxLength.inputValue()).toBe('2000');
    await page.getByLabel('Requests per minute to Genesys Cloud', { exact: true }).fill('7000');
    await maxLength.fill('100001');
    await button('Save settings').click();
    await page.locator('[data-field="requestsPerMinute"] [slot="error"]').waitFor();
    await page.locator('[data-field="maxAttributeValueLength"] [slot="error"]').waitFor();
    await page.getByLabel('Requests per minute to Genesys Cloud', { exact: true }).fill('600');
    await maxLength.fill('500');
    await button('Save settings').click();
    await page.getByText('Settings saved.').waitFor();
    const tenant = await world.call('GET', '/v1/tenant', { token: await sessionToken() });
    const { settings } = (await tenant.json()) as { settings: Record<string, unknown> };
    expect(settings).toMatchObject({
      requestsPerMinute: 600,
      maxAttributeValueLength: 500,
    });
    await checkPage('settings');
    await button('Uninstall').click();
    const dialog = page.locator('gux-modal');
    await dialog.getByLabel('Type Acme to confirm', { exact: true }).fill('Acme');
    await dialog.getByRole('button', { name: 'Uninstall' }).click();
    await heading('Install Attribute Relay').waitFor();
    // Purged: what stays of the org is the one audit row saying so.
    expect(await rowsPerTable(world.app, org.orgId)).toMatchObject({ audit_log: 1, sources: 0, rules: 0 });
  });
});

async function sessionToken(): Promise<string> {
  // Code run in the page is a string: the tests' TypeScript knows no DOM.
  return page.evaluate<string>("JSON.parse(sessionStorage.getItem('relay.session')).session.token");
}
