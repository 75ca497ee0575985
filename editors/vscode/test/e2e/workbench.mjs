// Driving the VS Code workbench in headless chromium. DOM class names are those of VS Code
// 1.100 (code-server 4.100.3, pinned).

import * as path from 'node:path';

import { chromium } from 'playwright-core';

import { CHROMIUM, OUT_DIR } from './harness.mjs';

export class Workbench {
  static async open(url) {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    const bench = new Workbench(browser, page);
    await bench.goto(url);
    return bench;
  }

  constructor(browser, page) {
    this.browser = browser;
    this.page = page;
  }

  async goto(url) {
    await this.page.goto(url);
    await this.page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
  }

  async screenshot(name) {
    await this.page.screenshot({ path: path.join(OUT_DIR, `${name}.png`) });
  }

  statusItem(text) {
    return this.page.locator('.statusbar-item', { hasText: text }).first();
  }

  async statusText(prefix) {
    const item = this.statusItem(prefix);
    await item.waitFor({ timeout: 60_000 });
    return (await item.innerText()).trim();
  }

  /** Runs a palette command by its title. */
  async command(title) {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await this.page.keyboard.type(title);
    // The row whose label is exactly `title`: "File: Save" must not pick "File: Save As…".
    const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    const row = this.page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: exact }) });
    await row.first().waitFor({ timeout: 10_000 });
    await row.first().click();
  }

  /** Closes every editor and waits until no tab is left, running the command again if one
   * is (seen in CI: a tab left open after the command, and the next Quick Open failing).
   */
  async closeAllEditors() {
    const tabs = this.page.locator('.tabs-container .tab');
    for (let attempt = 1; ; attempt++) {
      await this.command('View: Close All Editors');
      try {
        await tabs.first().waitFor({ state: 'detached', timeout: 5_000 });
        return;
      } catch {
        // A tab that asks to be saved stays, as it did before this retry: the test goes on.
        if (attempt === 3) return;
      }
    }
  }

  /** Opens a workspace file through Quick Open by its workspace-relative path (`src/app.js`)
   * and waits for its tab.
   *
   * A path with a separator is looked up directly (Quick Open stats `folder/path`), not in the
   * file-search cache: that cache answers a new Quick Open from the list the previous one
   * loaded until its own reload ends, so a file written since (as these tests do just before
   * opening it) is missing from the answer if the query wins that race — what made the
   * language tests fail on a quiet machine.
   */
  async openFile(relative) {
    if (!relative.includes('/')) throw new Error(`openFile needs a relative path: ${relative}`);
    const name = relative.split('/').pop();
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(relative);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: name });
    await row.first().waitFor({ timeout: 15_000 });
    await this.page.keyboard.press('Enter');
    await this.page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 10_000 });
  }

  /** Picks the quick-pick row with this text. */
  async pick(text) {
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: text });
    await row.first().waitFor({ timeout: 15_000 });
    await row.first().click();
  }

  async openView() {
    await this.command('envsync: Show the Env Sync View');
    await this.page
      .locator('.pane-header', { hasText: 'Environments' })
      .first()
      .waitFor({ timeout: 20_000 });
  }

  /** The tree row of a view whose text contains `text`. */
  row(view, text) {
    return this.page
      .locator(`.pane:has(.pane-header:has-text("${view}")) .monaco-list-row`, { hasText: text })
      .first();
  }

  async rowText(view, text) {
    const row = this.row(view, text);
    await row.waitFor({ timeout: 20_000 });
    return (await row.innerText()).replace(/\s+/g, ' ').trim();
  }

  /** Waits until the row with `text` reads `expected` (a substring). */
  async waitRow(view, text, expected, timeout = 20_000) {
    const row = this.page
      .locator(`.pane:has(.pane-header:has-text("${view}")) .monaco-list-row`, { hasText: text })
      .filter({ hasText: expected })
      .first();
    await row.waitFor({ timeout });
    return (await row.innerText()).replace(/\s+/g, ' ').trim();
  }

  /** Clicks an inline action (by its title) of a tree row. */
  async inline(view, text, action) {
    const row = this.row(view, text);
    await row.hover();
    await row.locator(`.action-label[aria-label="${action}"]`).first().click();
  }

  toast(text) {
    return this.page.locator('.notification-toast', { hasText: text }).first();
  }

  async waitToast(text, timeout = 20_000) {
    const toast = this.toast(text);
    await toast.waitFor({ timeout });
    return (await toast.innerText()).trim();
  }

  async clickToastButton(toastText, button) {
    const toast = this.toast(toastText);
    await toast.waitFor({ timeout: 20_000 });
    await toast.locator('.monaco-button', { hasText: button }).first().click();
  }

  async clearNotifications() {
    await this.command('Notifications: Clear All Notifications').catch(() => undefined);
    await this.page.keyboard.press('Escape');
  }

  dialog() {
    return this.page.locator('.monaco-dialog-box').first();
  }

  async close() {
    await this.browser.close();
  }
}
