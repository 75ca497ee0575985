// The live state of the workspace: finds the folders holding envsync.toml, reads their
// status, runs one watch per folder, and reacts to what the watches report (pull a clean
// file at once; never touch one with unsaved or unpushed edits).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

import { Cli, failureMessage } from './cli';
import { type EnvironmentState, parseStatus, type WatchEvent } from './contract';
import { FolderState, keyOf, summary } from './model';
import { type Root } from './views';
import { FolderWatch } from './watch';

/** How often a paused folder's status is read. */
const POLL_WHILE_DIRTY_MS = 1_500;

export interface ControllerHooks {
  redraw: () => void;
  log: (line: string) => void;
}

export class Controller implements vscode.Disposable {
  roots: Root[] = [];
  private watches = new Map<string, FolderWatch>();
  /** Folders whose watch is paused (see `onDocumentsChanged`), with their poll timer. */
  private paused = new Map<string, NodeJS.Timeout>();
  readonly statusBar: vscode.StatusBarItem;
  /** Environments a watch said moved while the file had unsaved edits: already warned. */
  private warned = new Set<string>();
  /** What this CLI can do beyond the basics, read from its help once. */
  reportSupported = false;
  resolveSupported = false;

  constructor(
    public cli: Cli,
    private readonly hooks: ControllerHooks,
  ) {
    this.statusBar = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
    this.statusBar.command = 'envsync.showView';
    this.statusBar.name = 'envsync';
    this.statusBar.text = '$(lock) envsync';
    this.statusBar.show();
  }

  /**
   * Folders with an envsync.toml: each workspace folder's root, and nested ones. The roots
   * are looked at directly: the file search, which finds the nested ones, was seen to answer
   * nothing for a multi-root workspace just opened.
   */
  async discover(): Promise<void> {
    const found = await vscode.workspace.findFiles('**/envsync.toml', '**/node_modules/**', 50);
    const roots = (vscode.workspace.workspaceFolders ?? [])
      .filter((folder) => folder.uri.scheme === 'file')
      .map((folder) => folder.uri.fsPath)
      .filter((dir) => fs.existsSync(path.join(dir, 'envsync.toml')));
    const dirs = [...new Set([...roots, ...found.map((uri) => path.dirname(uri.fsPath))])].sort();
    const folders = vscode.workspace.workspaceFolders ?? [];
    this.hooks.log(
      `${folders.length} workspace folder(s) (${folders.map((f) => f.uri.scheme).join(', ')}), ` +
        `${dirs.length} with envsync.toml`,
    );
    const known = new Map(this.roots.map((root) => [root.dir, root]));
    this.roots = dirs.map(
      (dir) =>
        known.get(dir) ?? {
          dir,
          name: path.basename(dir),
          state: new FolderState(),
        },
    );
    for (const [dir, watch] of this.watches) {
      if (!dirs.includes(dir)) {
        watch.stop();
        this.watches.delete(dir);
      }
    }
    await vscode.commands.executeCommand('setContext', 'envsync.hasWorkspace', dirs.length > 0);
  }

  /** Re-reads every folder's status with `status --json`. */
  async refresh(): Promise<void> {
    await Promise.all(this.roots.map((root) => this.refreshRoot(root)));
    this.redraw();
  }

  async refreshRoot(root: Root): Promise<void> {
    const result = await this.cli.run(['status', '--json'], { cwd: root.dir });
    if (result.code !== 0) {
      root.state.lastError = failureMessage(result);
      return;
    }
    const document = parseStatus(result.stdout);
    root.state.replace(document.environments, document.pending, document.current);
    root.state.lastError = null;
  }

  redraw() {
    const states = this.roots.flatMap((root) => [...root.state.environments.values()]);
    const pending = this.roots.reduce((sum, root) => sum + root.state.pending.length, 0);
    const text = summary(states, pending);
    this.statusBar.text = `$(lock) ${text}`;
    this.statusBar.tooltip = 'Open the Env Sync view';
    this.hooks.redraw();
  }

  /** Starts (or restarts after a settings change) one watch per folder. */
  startWatches() {
    this.stopWatches();
    for (const root of this.roots) {
      this.startWatch(root);
    }
  }

  private startWatch(root: Root) {
    const setting = vscode.workspace
      .getConfiguration('envsync')
      .get<number | null>('autoRefreshSeconds', null);
    const watch = new FolderWatch({
      binary: this.cli.binary,
      cwd: root.dir,
      report: this.reportSupported,
      refreshSeconds: this.reportSupported ? setting : null,
      onEvent: (event) => this.onEvent(root, event),
      onExit: (code) => this.hooks.log(`watch in ${root.name} ended (${code})`),
      log: this.hooks.log,
    });
    this.watches.set(root.dir, watch);
    watch.start();
  }

  stopWatches() {
    for (const watch of this.watches.values()) {
      watch.stop();
    }
    this.watches.clear();
    for (const timer of this.paused.values()) {
      clearInterval(timer);
    }
    this.paused.clear();
  }

  /**
   * A CLI without `watch --report` pulls clean files by itself, even under an editor with
   * unsaved edits. So while a folder has such an editor, its watch is paused and its status
   * polled instead; the watch resumes once the edits are saved or reverted.
   */
  onDocumentsChanged() {
    if (this.reportSupported) {
      return;
    }
    for (const root of this.roots) {
      const dirty = this.hasDirtyLinkedFile(root);
      const timer = this.paused.get(root.dir);
      if (dirty && !timer && this.watches.has(root.dir)) {
        this.watches.get(root.dir)?.stop();
        this.watches.delete(root.dir);
        this.paused.set(
          root.dir,
          setInterval(() => void this.poll(root), POLL_WHILE_DIRTY_MS),
        );
        this.hooks.log(`watch in ${root.name} paused: a linked file has unsaved edits`);
      } else if (!dirty && timer) {
        clearInterval(timer);
        this.paused.delete(root.dir);
        this.startWatch(root);
      }
    }
  }

  private hasDirtyLinkedFile(root: Root): boolean {
    const files = new Set(root.state.linked().map((env) => path.join(root.dir, env.file)));
    return vscode.workspace.textDocuments.some(
      (document) => document.isDirty && files.has(document.uri.fsPath),
    );
  }

  /** While paused: a status read, reported as the watch would have (changes only). */
  private async poll(root: Root) {
    const result = await this.cli.run(['status', '--json'], { cwd: root.dir });
    if (result.code !== 0 || !this.paused.has(root.dir)) {
      return;
    }
    for (const state of parseStatus(result.stdout).environments) {
      const known = root.state.environments.get(keyOf(state.project, state.environment));
      if (known?.badge !== state.badge) {
        this.onEvent(root, { event: 'status', ...state });
      }
    }
  }

  private onEvent(root: Root, event: WatchEvent) {
    this.hooks.log(`watch: ${describeEvent(event)}`);
    if (root.state.apply(event)) {
      this.redraw();
    }
    switch (event.event) {
      case 'pulled': {
        const by = event.author ? ` (pushed by ${event.author})` : '';
        void vscode.window.showInformationMessage(
          `envsync: pulled ${event.project}/${event.environment} version ` +
            `${event.version ?? '?'}${by}`,
        );
        void this.refreshPending(root);
        break;
      }
      case 'status': {
        const { event: _event, ...state } = event;
        void this.onStatus(root, state);
        break;
      }
      case 'would_pull':
        void this.onWouldPull(root, event);
        break;
      case 'connected':
        void this.refreshPending(root);
        break;
      default:
        break;
    }
  }

  /** Pending members come with `status --json`; watch events do not carry them. */
  private async refreshPending(root: Root) {
    const result = await this.cli.run(['status', '--json'], { cwd: root.dir });
    if (result.code === 0) {
      root.state.pending = parseStatus(result.stdout).pending;
      this.redraw();
    }
  }

  /** A badge change: warn once about an update that unsaved or unpushed edits hold back. */
  private async onStatus(root: Root, state: EnvironmentState) {
    const key = `${root.dir}\u0000${state.project}\u0000${state.environment}`;
    if (state.badge !== 'update_available' && state.badge !== 'diverged') {
      this.warned.delete(key);
      return;
    }
    const dirty = this.isDirty(root, state.file);
    // With `--report`, a clean file's update comes as `would_pull`, handled there.
    if (state.badge === 'update_available' && !dirty) {
      return;
    }
    await this.warnHeldBack(root, state, dirty);
  }

  /** `watch --report`: pull a clean file at once; leave a file with unsaved edits alone. */
  private async onWouldPull(root: Root, event: WatchEvent & { event: 'would_pull' }) {
    const state = root.state.environments.get(keyOf(event.project, event.environment));
    if (!state) {
      return;
    }
    const current = { ...state, author: event.author ?? state.author };
    if (this.isDirty(root, event.file)) {
      await this.warnHeldBack(root, current, true);
      return;
    }
    await this.pullQuietly(root, { ...current, remoteVersion: event.version });
  }

  private isDirty(root: Root, file: string): boolean {
    const full = path.join(root.dir, file);
    return vscode.workspace.textDocuments.some(
      (document) => document.isDirty && document.uri.fsPath === full,
    );
  }

  private async warnHeldBack(root: Root, state: EnvironmentState, dirty: boolean) {
    const key = `${root.dir}\u0000${state.project}\u0000${state.environment}`;
    if (this.warned.has(key)) {
      return;
    }
    this.warned.add(key);
    const by = state.author ? ` by ${state.author}` : '';
    const choice = await vscode.window.showWarningMessage(
      `envsync: ${state.project}/${state.environment} has a new version${by}; your ` +
        `${dirty ? 'unsaved' : 'unpushed'} edits were left untouched.`,
      'Sync',
    );
    if (choice === 'Sync') {
      await vscode.commands.executeCommand('envsync.sync', {
        kind: 'environment',
        root,
        env: state,
      });
    }
  }

  private async pullQuietly(root: Root, state: EnvironmentState) {
    const args = ['pull', '--json', '-p', state.project, '-e', state.environment];
    const result = await this.cli.run(args, { cwd: root.dir });
    if (result.code !== 0) {
      this.hooks.log(`pull of ${state.project}/${state.environment} failed (${result.code})`);
      return;
    }
    await this.refreshRoot(root);
    this.redraw();
    const by = state.author ? ` (pushed by ${state.author})` : '';
    void vscode.window.showInformationMessage(
      `envsync: pulled ${state.project}/${state.environment} version ` +
        `${state.remoteVersion ?? '?'}${by}`,
    );
  }

  dispose() {
    this.stopWatches();
    this.statusBar.dispose();
  }
}

/** A log line for a watch event: names and badges, never a value. */
function describeEvent(event: WatchEvent): string {
  switch (event.event) {
    case 'status':
      return `status ${event.project}/${event.environment} ${event.badge}`;
    case 'pulled':
    case 'would_pull':
      return `${event.event} ${event.project}/${event.environment} v${event.version ?? '?'}`;
    case 'error':
      return `error ${event.project ?? ''}/${event.environment ?? ''}`;
    case 'connected':
    case 'disconnected':
      return event.event;
    case 'unknown':
      return `unknown event ${event.name}`;
  }
}
