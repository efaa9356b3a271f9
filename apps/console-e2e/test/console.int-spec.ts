import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOPICS, type SegmentRefreshedV1 } from '@export/contracts';
import { ApiClient, expectEventually, produceRaw, signToken, startStack, tenantSnapshotDir, type Stack } from '@export/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, screenshot, seriousAccessibilityViolations } from './support/browser';

/**
 * The web console in a real browser (Debian's Chromium through playwright-core), against the whole stack:
 * the control plane serving the built console, extraction, mapping, delivery as separate processes on the real
 * broker and PostgreSQL, and the Autopilot simulator.
 */
describe('web console', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let admin: ApiClient;
  const apiKey = `sim-console-${randomUUID()}`;
  // Ends unlike any UUID, so the connection's last 4 tell the keys apart.
  const rotatedKey = `sim-console-rotated-${randomUUID()}-zz9z`;
  const tenant = `console-${randomUUID().slice(0, 8)}`;
  const UI_TIMEOUT = 60_000;
  const RUN_TIMEOUT = 240_000;

  const writeSegment = (file: string, good: number, bad: number) => {
    const rows = ['CustomerId,EMail,FirstName,LastName'];
    for (let i = 0; i < good; i++) rows.push(`C-${i},person${i}@example.com,First${i},Last${i}`);
    for (let i = 0; i < bad; i++) rows.push(`B-${i},not-an-email-${i},Bad,Row`);
    const path = join(tenantSnapshotDir(tenant, stack.snapshotRoot), file);
    writeFileSync(path, rows.join('\n') + '\n');
    return path;
  };
  const refreshed = (id: string, name: string, count: number, path: string): SegmentRefreshedV1 => ({
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId: tenant,
    segment: { id, name, memberCount: count },
    snapshot: { format: 'csv', location: `file://${path}` },
  });

  const quotaUsed = async () => (await admin.json<{ used: number }>('GET', `/v1/tenants/${tenant}/quota`)).used;
  const runRows = () => page.locator('tbody tr');
  /** Waits until the runs table lists `count` runs and the newest has finished with `status`. */
  const newestRunFinished = async (count: number, status = 'succeeded') => {
    await expectEventually(async () => (await runRows().count()) === count, { timeoutMs: RUN_TIMEOUT, message: `${count} runs listed` });
    await runRows().first().locator(`[data-status="${status}"]`).waitFor({ timeout: RUN_TIMEOUT });
    return runRows().first();
  };
  const count = async (row: ReturnType<Page['locator']>, name: string) => row.locator(`[data-count="${name}"]`).innerText();

  /** axe-core on the page as it is now: no serious or critical violation. */
  const expectAccessible = async () => expect(await seriousAccessibilityViolations(page)).toEqual([]);

  const signIn = async (user: string, role: 'admin' | 'contributor' | 'operator') => {
    await page.goto(stack.apiUrl);
    const signOut = page.getByRole('button', { name: 'Sign out' });
    if (await signOut.isVisible()) await signOut.click();
    await page.getByLabel('Tenant').fill(tenant);
    await page.getByLabel('User').fill(user);
    await page.getByLabel('Role').selectOption(role);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(`Signed in as ${user}`).waitFor({ timeout: UI_TIMEOUT });
  };

  beforeAll(async () => {
    // 2 requests/s: a 6,000-contact run takes ~30 s, long enough to be canceled while it runs.
    stack = await startStack({ apiKeys: [apiKey, rotatedKey], simulatorRps: 2 });
    admin = new ApiClient(stack.apiUrl, await signToken({ sub: 'ada', tid: tenant, role: 'admin' }));
    const vip = writeSegment('vip.csv', 40, 25);
    const all = writeSegment('all.csv', 6000, 0);
    await produceRaw(TOPICS.segmentRefreshed.name, [
      { key: `${tenant}:seg-vip`, value: JSON.stringify(refreshed('seg-vip', 'VIP customers', 65, vip)) },
      { key: `${tenant}:seg-all`, value: JSON.stringify(refreshed('seg-all', 'All customers', 6000, all)) },
    ]);
    await expectEventually(async () => (await admin.json<unknown[]>('GET', '/v1/segments')).length === 2, {
      timeoutMs: 60_000,
      message: 'both segments registered',
    });
    browser = await launchBrowser();
    context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      locale: 'en-US',
      // axe-core is injected as an inline script, which the console's Content-Security-Policy rightly refuses.
      bypassCSP: true,
    });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('loads under its Content-Security-Policy without a console error', async () => {
    const strict = await browser.newContext();
    try {
      const strictPage = await strict.newPage();
      const errors: string[] = [];
      strictPage.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      strictPage.on('pageerror', (e) => errors.push(e.message));
      await strictPage.goto(stack.apiUrl);
      await strictPage.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: UI_TIMEOUT });
      expect(errors).toEqual([]);
    } finally {
      await strict.close();
    }
  });

  it('signs in through the development form (accessible)', async () => {
    await page.goto(stack.apiUrl);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await expectAccessible();
    await screenshot(page, 'sign-in');
    await signIn('ada', 'admin');
    await page.getByRole('heading', { name: 'Connections' }).waitFor();
    await expectAccessible();
  });

  it('needs the privacy consent before Connect, and shows the key Autopilot rejects next to the key field', async () => {
    await page.getByRole('button', { name: 'Add connection' }).click();
    await page.getByLabel('Display name').fill('Autopilot (marketing)');
    await page.getByLabel('API key', { exact: true }).fill('not-a-key-autopilot-knows');
    const connect = page.getByRole('button', { name: 'Connect' });
    expect(await connect.isDisabled()).toBe(true);
    await expectAccessible();
    await page.getByLabel('I have read the data privacy notice and accept it').check();
    expect(await connect.isEnabled()).toBe(true);
    await screenshot(page, 'connection-add');
    await connect.click();
    const keyField = page.getByLabel('API key', { exact: true });
    await expectEventually(async () => (await keyField.getAttribute('aria-invalid')) === 'true', { timeoutMs: UI_TIMEOUT, message: 'key marked invalid' });
    const describedBy = (await keyField.getAttribute('aria-describedby')) ?? '';
    const message = await page.locator(`[id="${describedBy.split(' ').pop()}"]`).innerText();
    expect(message).toContain('Autopilot rejected the API key');
    expect(message).not.toContain('not-a-key-autopilot-knows');
    await expectAccessible();
    await screenshot(page, 'connection-key-rejected');
    expect(await admin.json<unknown[]>('GET', '/v1/connections')).toEqual([]);

    await keyField.fill(apiKey);
    await connect.click();
    await page.getByText('Connection Autopilot (marketing) created.').waitFor();
    const row = page.getByRole('row', { name: /Autopilot \(marketing\)/ });
    await expect(row.innerText()).resolves.toContain(`Key ending in ${apiKey.slice(-4)}`);
    await expect(row.innerText()).resolves.toContain('Admins only');
    await expect(row.innerText()).resolves.toContain('ada');
    await expectAccessible();
  });

  it('rotates the key of a connection', async () => {
    await page.getByRole('button', { name: 'Rotate key: Autopilot (marketing)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the key of Autopilot (marketing)' });
    await dialog.getByLabel('New API key').fill(rotatedKey);
    await expectAccessible();
    await dialog.getByRole('button', { name: 'Rotate key', exact: true }).click();
    await page.getByText('Key rotated.').waitFor();
    const row = page.getByRole('row', { name: /Autopilot \(marketing\)/ });
    await expectEventually(async () => (await row.innerText()).includes(`Key ending in ${rotatedKey.slice(-4)}`), { message: 'new last 4 shown' });
    expect(await row.innerText()).not.toContain(`Key ending in ${apiKey.slice(-4)}`);
    const [connection] = await admin.json<{ apiKeyLast4: string }[]>('GET', '/v1/connections');
    expect(connection.apiKeyLast4).toBe(rotatedKey.slice(-4));
    await expectAccessible();
  });

  it('saves an export without running it', async () => {
    await page.getByRole('link', { name: 'Exports' }).click();
    await page.getByRole('link', { name: 'Add export' }).click();
    await page.getByLabel('Name', { exact: true }).fill('VIP newsletter');
    await page.getByLabel('Connection', { exact: true }).selectOption({ label: 'Autopilot (marketing)' });
    await page.getByLabel(/VIP customers: 65 members/).check();
    // The e-mail mapping is required: the form says so before anything is sent.
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('alert').first().waitFor();
    expect(await page.getByLabel('E-mail attribute (required)').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('E-mail attribute (required)').fill('EMail');
    await page.getByLabel('First name attribute').fill('FirstName');
    await page.getByLabel('Last name attribute').fill('LastName');
    await page.getByRole('button', { name: 'Add custom field' }).click();
    await page.getByLabel('Profile attribute 1').fill('CustomerId');
    await page.getByLabel('Autopilot field 1').fill('Customer Id');
    await page.getByText(/at most 100,000 profiles per export run/).waitFor();
    // Sync mode is always offered: mirror by default, with the share of a list above which removals are held.
    expect(await page.getByLabel('Sync mode').inputValue()).toBe('mirror');
    expect(await page.getByLabel('Hold removals above this share of a list (%)').inputValue()).toBe('20');
    await expectAccessible();
    await screenshot(page, 'export-form');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/Export saved\. It runs after the next refresh/).waitFor();
    await expectAccessible();
    await screenshot(page, 'exports');
    const [saved] = await admin.json<{ id: string; mapping: unknown; syncMode: string; massRemovalPercent: number }[]>('GET', '/v1/exports');
    expect(saved).toMatchObject({ syncMode: 'mirror', massRemovalPercent: 20 });
    expect(saved.mapping).toEqual({
      email: 'EMail',
      firstName: 'FirstName',
      lastName: 'LastName',
      custom: [{ attribute: 'CustomerId', field: 'Customer Id', type: 'string' }],
    });
    expect(await admin.json<unknown[]>('GET', `/v1/exports/${saved.id}/runs`)).toEqual([]);
    await page.getByRole('link', { name: 'Runs: VIP newsletter' }).click();
    await page.getByText('No run yet.').waitFor();
  });

  it('previews a run (dry run): shows the predicted counts and changes nothing', async () => {
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.getByText('Preview queued').waitFor();
    const row = await newestRunFinished(1);
    expect(await row.locator('[data-status]').innerText()).toContain('dry run');
    expect(await count(row, 'added')).toBe('40');
    expect(await count(row, 'updated')).toBe('0');
    expect(await count(row, 'unchanged')).toBe('0');
    expect(await count(row, 'removed')).toBe('0');
    expect(await count(row, 'delivered')).toBe('40');
    expect(await row.locator('[data-phase]').innerText()).toBe('finished');
    // Nothing was sent: no quota spent, and the run API says it was a dry run.
    expect(await quotaUsed()).toBe(0);
    const [exp] = await admin.json<{ id: string }[]>('GET', '/v1/exports');
    const [preview] = await admin.json<{ dryRun: boolean }[]>('GET', `/v1/exports/${exp.id}/runs`);
    expect(preview.dryRun).toBe(true);
    await expectAccessible();
    await screenshot(page, 'runs-preview');
  });

  it('runs on demand and follows the run to succeeded without a reload, sending what the preview predicted; rejected rows are listed, paged', async () => {
    await page.getByRole('button', { name: 'Run now' }).click();
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const row = await newestRunFinished(2);
    expect(navigations).toEqual([]); // the status changed in place
    expect(await row.locator('[data-status]').innerText()).not.toContain('dry run');
    expect(await count(row, 'added')).toBe('40');
    expect(await count(row, 'delivered')).toBe('40');
    expect(await count(row, 'rejected')).toBe('25');
    expect(await row.innerText()).toContain('on demand');
    expect(await quotaUsed()).toBe(40);
    await expectAccessible();
    await screenshot(page, 'runs');

    await page.getByRole('link', { name: /^Details/ }).first().click();
    await page.getByRole('heading', { name: 'Rejected rows (25)' }).waitFor();
    const rejectionRows = page.locator('section[aria-labelledby="rejections-title"] tbody tr');
    await expectEventually(async () => (await rejectionRows.count()) === 20, { message: 'first page of 20' });
    expect(await rejectionRows.first().innerText()).toMatch(/seg-vip/);
    expect((await rejectionRows.first().innerText()).toLowerCase()).toContain('mail');
    await expectAccessible();
    await screenshot(page, 'run');
    await page.getByRole('button', { name: 'Next page' }).click();
    await expectEventually(async () => (await rejectionRows.count()) === 5, { message: 'second page of 5' });
  });

  it('holds a mass removal (MASS_REMOVAL_HELD) until the admin applies the removals', async () => {
    // 30 of the 40 contacts leave the segment: 75% of its list, above the export's 20%.
    const vip = writeSegment('vip-smaller.csv', 10, 0);
    await produceRaw(TOPICS.segmentRefreshed.name, [
      { key: `${tenant}:seg-vip`, value: JSON.stringify(refreshed('seg-vip', 'VIP customers', 10, vip)) },
    ]);
    await page.getByRole('link', { name: 'Back to the runs' }).click();
    const held = await newestRunFinished(3);
    expect(await held.innerText()).toContain('segment refresh');
    expect(await held.innerText()).toContain('Removals held: 30 removals held');
    expect(await count(held, 'removed')).toBe('0');
    await expectAccessible();
    await screenshot(page, 'runs-removals-held');

    await held.getByRole('button', { name: 'Apply removals' }).click();
    await page.getByText('Run queued with the held removals applied.').waitFor();
    const applied = await newestRunFinished(4);
    expect(await count(applied, 'removed')).toBe('30');
    expect(await applied.innerText()).not.toContain('Removals held');
    // Only the newest run offers to apply removals.
    expect(await page.getByRole('button', { name: 'Apply removals' }).count()).toBe(0);
  });

  it('cancels a running run', async () => {
    const connection = (await admin.json<{ id: string }[]>('GET', '/v1/connections'))[0];
    const big = await admin.json<{ id: string }>('POST', '/v1/exports', {
      name: 'Everyone',
      connectionId: connection.id,
      segmentIds: ['seg-all'],
      mapping: { email: 'EMail' },
    });
    await page.goto(`${stack.apiUrl}/exports/${big.id}/runs`);
    await page.getByRole('button', { name: 'Run now' }).click();
    const cancel = page.getByRole('button', { name: 'Cancel run' });
    await cancel.waitFor({ timeout: RUN_TIMEOUT });
    await page.locator('[data-status="running"]').waitFor({ timeout: RUN_TIMEOUT });
    // A running run shows its phase and a bar of the phase's progress, updated in place.
    const running = runRows().first();
    expect(await running.locator('[data-phase]').innerText()).toMatch(/^(queued|extracting|staging|sending|removing)$/);
    await running.getByRole('progressbar', { name: 'Progress' }).waitFor();
    await expectAccessible();
    await screenshot(page, 'runs-running');
    await cancel.click();
    await page.locator('[data-status="canceled"]').waitFor({ timeout: RUN_TIMEOUT });
    const [run] = await admin.json<{ status: string; counts: { delivered: number } }[]>('GET', `/v1/exports/${big.id}/runs`);
    expect(run.status).toBe('canceled');
    expect(run.counts.delivered).toBeLessThan(6000);
    expect(await cancel.count()).toBe(0);
  });

  it("shows the tenant's quota with a per-day chart; an operator sets it", async () => {
    await page.getByRole('link', { name: 'Quota' }).click();
    await page.getByRole('img', { name: 'Profiles used per day this month' }).waitFor();
    expect(await page.locator('[data-quota="limit"]').innerText()).toBe('no quota set');
    expect(await page.getByRole('button', { name: 'Set quota' }).count()).toBe(0);
    await expectAccessible();
    await screenshot(page, 'quota');

    await signIn('olga', 'operator');
    await page.getByRole('link', { name: 'Quota' }).click();
    await page.getByLabel('Profiles per month').fill('50000');
    await page.getByRole('button', { name: 'Set quota' }).click();
    await page.getByText('Quota saved.').waitFor();
    await expectEventually(async () => (await page.locator('[data-quota="limit"]').innerText()) === '50,000', { message: 'quota shown' });
    expect(await page.getByRole('link', { name: 'Exports' }).count()).toBe(0);
    await expectAccessible();
    await screenshot(page, 'quota-operator');
  });

  it('keeps a contributor away from a connection not shared with contributors', async () => {
    await signIn('carl', 'contributor');
    await page.getByRole('link', { name: 'Exports' }).click();
    await page.getByRole('row', { name: /VIP newsletter/ }).waitFor();
    // Nothing the API would refuse is offered: no run, edit or delete, no new export without a usable connection.
    expect(await page.getByRole('button', { name: 'Run now: VIP newsletter' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Edit: VIP newsletter' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Add export' }).count()).toBe(0);
    await page.goto(`${stack.apiUrl}/exports/new`);
    const options = await page.getByLabel('Connection', { exact: true }).locator('option').allInnerTexts();
    expect(options).not.toContain('Autopilot (marketing)');
    await page.getByRole('link', { name: 'Connections' }).click();
    expect(await page.getByRole('button', { name: 'Add connection' }).count()).toBe(0);
    await expectAccessible();
    // And the API itself refuses the contributor's token (the console only hides the buttons).
    const exportId = (await admin.json<{ id: string; name: string }[]>('GET', '/v1/exports')).find((e) => e.name === 'VIP newsletter')?.id;
    const status = await page.evaluate(
      `fetch('/v1/exports/${exportId}/runs', { method: 'POST', headers: { authorization: 'Bearer ' + JSON.parse(sessionStorage.getItem('console.session')).token, 'content-type': 'application/json' }, body: '{}' }).then((r) => r.status)`,
    );
    expect(status).toBe(403);
  });

  it('removes a connection, offering to detach the exports that use it', async () => {
    await signIn('ada', 'admin');
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('button', { name: 'Remove: Autopilot (marketing)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove Autopilot (marketing)?' });
    await dialog.getByText('2 export(s) use it.').waitFor();
    const detach = dialog.getByLabel(/Detach the exports that use it/);
    expect(await detach.isChecked()).toBe(true);
    await expectAccessible();
    await screenshot(page, 'connection-remove');
    await dialog.getByRole('button', { name: 'Remove connection' }).click();
    await page.getByText('No connection yet.').waitFor();
    expect(await admin.json<unknown[]>('GET', '/v1/connections')).toEqual([]);
    // The exports stay, with their settings, and show that they have no connection.
    const exports = await admin.json<{ name: string; connectionId: string | null; state: string }[]>('GET', '/v1/exports');
    expect(exports.map((e) => [e.name, e.connectionId, e.state]).sort()).toEqual([
      ['Everyone', null, 'no-connection'],
      ['VIP newsletter', null, 'no-connection'],
    ]);
    await page.getByRole('link', { name: 'Exports' }).click();
    const row = page.getByRole('row', { name: /VIP newsletter/ });
    await expectEventually(async () => (await row.innerText()).includes('no connection'), { message: 'export shown without connection' });
    expect(await page.getByRole('button', { name: 'Run now: VIP newsletter' }).count()).toBe(0);
    await expectAccessible();
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('heading', { name: 'Connections' }).waitFor();
  });

  it('switches to Italian', async () => {
    await page.getByLabel('Language').selectOption('it');
    await page.getByRole('heading', { name: 'Connessioni' }).waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('it');
    await page.getByRole('link', { name: 'Esportazioni' }).click();
    await page.getByRole('heading', { name: 'Esportazioni' }).waitFor();
    await expectAccessible();
    await screenshot(page, 'exports-it');
    await page.getByLabel('Lingua').selectOption('en');
  });

  it('works from the keyboard alone: skip link, sign-in form, navigation', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.reload(); // a fresh load: focus starts at the top of the page
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const focused = () => page.evaluate('document.activeElement && (document.activeElement.getAttribute("name") || document.activeElement.textContent)');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Skip to content');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('tenant');
    await page.keyboard.type(tenant);
    await page.keyboard.press('Tab');
    await page.keyboard.type('ada');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('role');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as ada (admin)').waitFor();
    // Signed in where the session ended (the exports page). From the top of a fresh load, Tab through the
    // header to the Connections link and follow it.
    await page.reload();
    await page.getByRole('heading', { name: 'Exports' }).waitFor();
    for (let i = 0; i < 10 && (await focused()) !== 'Connections'; i++) await page.keyboard.press('Tab');
    expect(await focused()).toBe('Connections');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Connections' }).waitFor();
  });
});
