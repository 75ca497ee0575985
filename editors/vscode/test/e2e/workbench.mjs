// Driving the VS Code workbench in headless chromium. DOM class names are those of VS Code
// 1.100 (code-server 4.100.3, pinned).

import * as path from 'node:path';

import { chromium } from 'playwright-core';

import { CHROMIUM, OUT_DIR, until } from './harness.mjs';

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
    const row = this.page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: exactly(title) }) });
    await row.first().waitFor({ timeout: 10_000 });
    await row.first().click();
  }

  /** Closes every editor and waits until no tab is left; a tab that stays is an error. */
  async closeAllEditors() {
    await this.command('View: Close All Editors');
    const tabs = this.page.locator('.tabs-container .tab');
    try {
      await tabs.first().waitFor({ state: 'detached', timeout: 10_000 });
    } catch {
      throw new Error(`tabs left open: ${(await tabs.allInnerTexts()).join(', ')}`);
    }
  }

  /** Opens a workspace file through Quick Open by its workspace-relative path (`src/app.js`)
   * and waits for its tab.
   *
   * Two races of Quick Open are avoided, not retried:
   * - The file-search cache answers a new Quick Open from the list the previous one loaded
   *   until its own reload ends, so a file written since (as these tests do just before
   *   opening it) can be missing. A query holding a path separator is also looked up directly
   *   (Quick Open stats `folder/path`), which does not depend on that cache.
   * - Before the typed query is applied, the list shows recently opened editors, with the
   *   most recent (say `.env`) focused: Enter then opens that one. So Enter waits until the
   *   focused row is the file asked for.
   */
  async openFile(relative) {
    const slash = relative.lastIndexOf('/');
    if (slash < 0) throw new Error(`openFile needs a relative path: ${relative}`);
    const [folder, name] = [relative.slice(0, slash), relative.slice(slash + 1)];
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(relative);
    await this.page
      .locator('.quick-input-list .monaco-list-row.focused', {
        has: this.page.locator('.label-name', { hasText: exactly(name) }),
      })
      .filter({ hasText: folder })
      .waitFor({ timeout: 15_000 });
    await this.page.keyboard.press('Enter');
    await this.page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 10_000 });
    await this.focusedEditor();
  }

  /** Waits until a text editor has the keyboard focus (before typing or pressing F12). */
  async focusedEditor() {
    await this.page
      .locator('.editor-group-container .monaco-editor.focused')
      .first()
      .waitFor({ timeout: 10_000 });
  }

  /** Picks the quick-pick row with this text. */
  async pick(text) {
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: text });
    await row.first().waitFor({ timeout: 15_000 });
    await row.first().click();
  }

  /** Answers the input box titled `title` (waiting for it: the previous box closes first)
   * with `value`, replacing what it offered. */
  async answer(title, value) {
    const widget = this.page.locator('.quick-input-widget', {
      has: this.page.locator('.quick-input-title', { hasText: exactly(title) }),
    });
    await widget.waitFor({ timeout: 15_000 });
    await widget.locator('.quick-input-box input').fill(value);
    await this.page.keyboard.press('Enter');
    await widget.waitFor({ state: 'hidden', timeout: 15_000 });
  }

  /** Answers VS Code's own file dialog (a quick input holding a path in code-server) with
   * an absolute path and its OK button (Enter may open the list's focused entry instead).
   * The dialog sets its own path once its first folder listing is loaded, so the path is
   * typed only after that.
   */
  async fileDialog(file) {
    const widget = this.page.locator('.quick-input-widget');
    const input = widget.locator('.quick-input-box input');
    const rows = widget.locator('.quick-input-list .monaco-list-row');
    await until(
      'the file dialog to list its folder',
      async () => (await input.inputValue()).startsWith('/') && (await rows.count()) > 0,
    );
    await input.fill(file);
    await until('the dialog to keep the path', async () => (await input.inputValue()) === file);
    const ok = widget.locator('.monaco-button', { hasText: exactly('OK') });
    await ok.click();
    // Gone, or reused by the next question (the passphrase box follows at once). The dialog
    // can drop a click that lands while it is still checking the typed path (seen once in
    // CI: the dialog stayed open on the path, OK focused), so a click is repeated every two
    // seconds while the dialog still shows the path, and only then.
    let clicked = Date.now();
    await until('the file dialog to close', async () => {
      if (!(await widget.isVisible()) || (await input.inputValue()) !== file) return true;
      if (Date.now() - clicked > 2_000) {
        await ok.click({ timeout: 1_000 }).catch(() => {});
        clicked = Date.now();
      }
      return false;
    });
  }

  async openView() {
    await this.command('envsync: Show the Env Sync View');
    await this.page
      .locator('.pane-header', { hasText: 'Environments' })
      .first()
      .waitFor({ timeout: 20_000 });
  }

  /** The tree rows of a view labelled exactly `label` (a row's description may name another
   * environment: "file in use by staging").
   */
  rows(view, label) {
    return this.page
      .locator(`.pane:has(.pane-header:has-text("${view}")) .monaco-list-row`)
      .filter({ has: this.page.locator('.label-name', { hasText: exactly(label) }) });
  }

  row(view, label) {
    return this.rows(view, label).first();
  }

  async rowText(view, label) {
    const row = this.row(view, label);
    await row.waitFor({ timeout: 20_000 });
    return (await row.innerText()).replace(/\s+/g, ' ').trim();
  }

  /** Waits until the row labelled `label` reads `expected` (a substring). */
  async waitRow(view, label, expected, timeout = 20_000) {
    const row = this.rows(view, label).filter({ hasText: expected }).first();
    await row.waitFor({ timeout });
    return (await row.innerText()).replace(/\s+/g, ' ').trim();
  }

  /** Clicks an inline action (by its title) of a tree row. The actions show only while the
   * pointer is over the row, and a refresh redraws rows: a row redrawn under a still pointer
   * hides them again. So a click that cannot land in two seconds moves the pointer away and
   * hovers afresh. (A click Playwright could not make was never dispatched: nothing runs
   * twice.)
   */
  async inline(view, text, action, timeout = 20_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const row = this.row(view, text);
      try {
        await row.hover({ timeout: 5_000 });
        await row
          .locator(`.action-label[aria-label="${action}"]`)
          .first()
          .click({ timeout: 2_000 });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await this.page.mouse.move(0, 0);
      }
    }
  }

  /** Runs an entry (by its exact title) of a tree row's context menu: the pointer focuses
   * it, Enter runs it (the menu ignores a click that comes as quickly as a script's).
   */
  async contextMenu(view, text, entry) {
    await this.page.keyboard.press('Escape');
    await this.row(view, text).click({ button: 'right' });
    const item = this.page
      .locator('.monaco-menu .action-menu-item')
      .filter({ has: this.page.locator('.action-label', { hasText: exactly(entry) }) })
      .first();
    await item.waitFor({ timeout: 10_000 });
    await item.hover();
    await this.page
      .locator('.monaco-menu .action-item.focused', { hasText: exactly(entry) })
      .waitFor({ timeout: 10_000 });
    await this.page.keyboard.press('Enter');
    await item.waitFor({ state: 'detached', timeout: 10_000 });
  }

  /** The titles in a tree row's context menu (closed again). */
  async contextMenuEntries(view, text) {
    await this.page.keyboard.press('Escape');
    await this.row(view, text).click({ button: 'right' });
    const labels = this.page.locator('.monaco-menu .action-menu-item .action-label');
    await labels.first().waitFor({ timeout: 10_000 });
    const entries = (await labels.allInnerTexts()).map((label) => label.trim());
    await this.page.keyboard.press('Escape');
    return entries;
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

/** A pattern matching exactly `text`. */
function exactly(text) {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}
