// The environment actions behind the inline icons, the context menu and the palette: pull,
// push (with the conflict flow when the remote moved), sync key by key, diff, history,
// rollback, open, run, export, and accepting a member.

import * as path from 'node:path';
import * as vscode from 'vscode';

import { failureMessage, type RunResult } from './cli';
import { type Choice, decidedValues, describeSide, resolveArgs } from './conflict';
import { type EnvironmentState, type LogEntry, parseLog, parseSyncPlan } from './contract';
import type { Controller } from './controller';
import { applyValues, parseVariables } from './dotenv';
import { readIfPresent, writePrivate } from './files';
import { presentBadge } from './model';
import { remoteUri, remoteVariables } from './remote';
import type { EnvNode, HistoryTree, Root } from './views';

export const EXIT_CONFLICT = 3;
export const EXIT_LOCAL_CHANGES = 4;

export interface Target {
  root: Root;
  env: EnvironmentState;
}

export class Actions {
  constructor(
    private readonly controller: Controller,
    private readonly history: HistoryTree,
  ) {}

  private get cli() {
    return this.controller.cli;
  }

  /** The environment of a tree row, else one picked from every folder's environments. */
  async target(node?: EnvNode | Target): Promise<Target | undefined> {
    if (node && 'env' in node && node.env) {
      return { root: node.root, env: node.env };
    }
    const all = this.controller.roots.flatMap((root) =>
      [...root.state.environments.values()].map((env) => ({ root, env })),
    );
    if (all.length <= 1) {
      return all[0];
    }
    const picked = await vscode.window.showQuickPick(
      all.map((target) => ({
        label: `${target.env.project}/${target.env.environment}`,
        description: presentBadge(target.env.badge).label,
        target,
      })),
      { placeHolder: 'Which environment?' },
    );
    return picked?.target;
  }

  private run(target: Target, args: string[], input?: string): Promise<RunResult> {
    const scoped = [...args, '-p', target.env.project, '-e', target.env.environment];
    return this.cli.run(scoped, { cwd: target.root.dir, input });
  }

  private file(target: Target): string {
    return path.join(target.root.dir, target.env.file);
  }

  private openDocument(target: Target): vscode.TextDocument | undefined {
    const file = this.file(target);
    return vscode.workspace.textDocuments.find((document) => document.uri.fsPath === file);
  }

  /** Saves the linked file if it is open with unsaved edits: push what the user sees. */
  private async saveFirst(target: Target): Promise<boolean> {
    const document = this.openDocument(target);
    return !document?.isDirty || document.save();
  }

  private async after(target: Target) {
    await this.controller.refreshRoot(target.root);
    this.controller.redraw();
  }

  async pull(node?: EnvNode | Target) {
    const target = await this.target(node);
    if (!target) {
      return;
    }
    if (this.openDocument(target)?.isDirty) {
      return this.offerSync(target, 'has unsaved edits in the editor; pulling would lose them');
    }
    const result = await this.run(target, ['pull', '--json']);
    await this.after(target);
    if (result.code === EXIT_LOCAL_CHANGES) {
      return this.offerSync(target, 'has unpushed edits that a pull would overwrite');
    }
    this.report(result, `pulled ${label(target)}`);
  }

  async push(node?: EnvNode | Target) {
    const target = await this.target(node);
    if (!target || !(await this.saveFirst(target))) {
      return;
    }
    if (vscode.workspace.getConfiguration('envsync').get<boolean>('confirmPush', false)) {
      const ok = await vscode.window.showWarningMessage(
        `Push ${label(target)} as a new version?`,
        { modal: true },
        'Push',
      );
      if (ok !== 'Push') {
        return;
      }
    }
    const result = await this.run(target, ['push', '--json']);
    await this.after(target);
    if (result.code === EXIT_CONFLICT) {
      return this.conflict(target);
    }
    this.report(result, `pushed ${label(target)}`);
  }

  private report(result: RunResult, done: string) {
    if (result.code === 0) {
      void vscode.window.setStatusBarMessage(`envsync: ${done}`, 5000);
      return;
    }
    void vscode.window.showErrorMessage(`envsync: ${failureMessage(result)}`);
  }

  private async offerSync(target: Target, why: string) {
    const choice = await vscode.window.showWarningMessage(
      `envsync: ${label(target)} ${why}.`,
      'Sync',
    );
    if (choice === 'Sync') {
      await this.sync(target);
    }
  }

  /** A push refused because the remote moved: how to go on. */
  async conflict(target: Target): Promise<void> {
    const choice = await vscode.window.showWarningMessage(
      `envsync: the push of ${label(target)} was refused: the remote moved since your last ` +
        'pull.',
      'Sync (merge key by key)',
      'Keep mine',
      'Take remote',
      'Open diff',
    );
    switch (choice) {
      case 'Sync (merge key by key)':
        return this.sync(target);
      case 'Keep mine':
        return this.syncAll(target, '--ours');
      case 'Take remote':
        return this.syncAll(target, '--theirs');
      case 'Open diff':
        await this.diff(target);
        return this.conflict(target);
    }
  }

  private async syncAll(target: Target, side: '--ours' | '--theirs') {
    const result = await this.run(target, ['sync', '--json', side]);
    await this.after(target);
    this.report(result, `synced ${label(target)}`);
  }

  /** Sync: merge what does not conflict; ask about each key that does, then push. */
  async sync(node?: EnvNode | Target) {
    const target = await this.target(node);
    if (!target || !(await this.saveFirst(target))) {
      return;
    }
    const planned = await this.run(target, ['sync', '--dry-run', '--json']);
    if (planned.code !== 0 && planned.code !== EXIT_CONFLICT) {
      return this.report(planned, '');
    }
    const conflicts = parseSyncPlan(planned.stdout).conflicts;
    if (conflicts.length === 0) {
      const result = await this.run(target, ['sync', '--json']);
      await this.after(target);
      return this.report(result, `synced ${label(target)}`);
    }
    const sides = {
      ours: parseVariables(readIfPresent(this.file(target))),
      theirs: await remoteVariables(
        this.cli,
        target.root.dir,
        target.env.project,
        target.env.environment,
      ),
    };
    const choices = await pickChoices(conflicts, sides);
    if (!choices) {
      void vscode.window.showInformationMessage('envsync: sync cancelled; nothing was written.');
      return;
    }
    await this.resolve(target, choices, sides);
  }

  /** Applies every decision at once: per key by the CLI when it can, else by the file. */
  private async resolve(
    target: Target,
    choices: Map<string, Choice>,
    sides: { ours: Map<string, string>; theirs: Map<string, string> },
  ) {
    let result: RunResult;
    if (this.controller.resolveSupported) {
      const { args, input } = resolveArgs(choices);
      result = await this.run(target, ['sync', '--json', ...args], input);
    } else {
      const file = this.file(target);
      writePrivate(file, applyValues(readIfPresent(file), decidedValues(choices, sides)));
      result = await this.run(target, ['sync', '--json', '--ours']);
    }
    await this.after(target);
    this.report(result, `merged and pushed ${label(target)}`);
  }

  async diff(node?: EnvNode | Target) {
    const target = await this.target(node);
    if (!target) {
      return;
    }
    const left = remoteUri(target.root.dir, target.env.project, target.env.environment);
    const right = vscode.Uri.file(this.file(target));
    await vscode.commands.executeCommand(
      'vscode.diff',
      left,
      right,
      `${label(target)}: remote ↔ local`,
    );
  }

  /** The History section shows the environment's versions; `focus` also reveals it. */
  async log(node?: EnvNode | Target, focus = true) {
    const target = await this.target(node);
    const entries = target && (await this.entries(target));
    if (!entries) {
      return;
    }
    this.history.show(entries);
    if (focus) {
      await vscode.commands.executeCommand('envsync.history.focus');
    }
  }

  /** `log --json`, newest first; undefined (after saying why) when it fails. */
  private async entries(target: Target): Promise<LogEntry[] | undefined> {
    const result = await this.run(target, ['log', '--json']);
    if (result.code !== 0) {
      this.report(result, '');
      return undefined;
    }
    return parseLog(result.stdout);
  }

  async rollback(node?: EnvNode | Target) {
    const target = await this.target(node);
    const entries = target && (await this.entries(target));
    if (!target || !entries) {
      return;
    }
    const picked = await vscode.window.showQuickPick(
      entries.map((entry) => ({
        label: `v${entry.version}`,
        description: `${entry.author} · ${entry.time}`,
        detail: entry.message,
        version: entry.version,
      })),
      { placeHolder: `Roll ${label(target)} back to which version?` },
    );
    if (!picked) {
      return;
    }
    const result = await this.run(target, ['rollback', String(picked.version), '--json']);
    await this.after(target);
    this.report(result, `rolled ${label(target)} back to v${picked.version}`);
  }

  async openFile(node?: EnvNode | Target) {
    const target = await this.target(node);
    if (target) {
      await vscode.window.showTextDocument(vscode.Uri.file(this.file(target)));
    }
  }

  /** A terminal whose shell the CLI starts with the variables (VS Code never sees them). */
  async runWith(node?: EnvNode | Target) {
    const target = await this.target(node);
    if (!target) {
      return;
    }
    const shell = process.env.SHELL || '/bin/sh';
    const terminal = vscode.window.createTerminal({
      name: `envsync: ${label(target)}`,
      cwd: target.root.dir,
      shellPath: this.cli.binary,
      shellArgs: ['run', '-p', target.env.project, '-e', target.env.environment, '--', shell],
      isTransient: true,
    });
    terminal.show();
  }

  async export(node?: EnvNode | Target) {
    const target = await this.target(node);
    if (!target) {
      return;
    }
    const formats = ['json', 'yaml', 'shell', 'docker', 'k8s-secret', 'github-env'];
    const format = await vscode.window.showQuickPick(formats, { placeHolder: 'Export format' });
    const where = format && (await vscode.window.showSaveDialog({ saveLabel: 'Export' }));
    if (!format || !where) {
      return;
    }
    const result = await this.run(target, ['export', '--format', format]);
    if (result.code !== 0) {
      return this.report(result, '');
    }
    writePrivate(where.fsPath, result.stdout);
    void vscode.window.showInformationMessage(`envsync: exported to ${where.fsPath} (0600)`);
  }
}

function label(target: Target): string {
  return `${target.env.project}/${target.env.environment}`;
}

/** One quick pick per key; undefined as soon as one is cancelled. */
async function pickChoices(
  keys: readonly string[],
  sides: { ours: Map<string, string>; theirs: Map<string, string> },
): Promise<Map<string, Choice> | undefined> {
  const choices = new Map<string, Choice>();
  for (const [index, key] of keys.entries()) {
    const picked = await vscode.window.showQuickPick(
      [
        { label: 'Keep mine', description: describeSide(sides.ours.get(key)), choice: 'ours' },
        {
          label: 'Take theirs',
          description: describeSide(sides.theirs.get(key)),
          choice: 'theirs',
        },
        { label: 'Edit value…', description: 'type a new value', choice: 'value' },
      ] as const,
      {
        title: `envsync conflict ${index + 1}/${keys.length}: ${key}`,
        placeHolder: `${key} changed here and on the remote`,
        ignoreFocusOut: true,
      },
    );
    if (!picked) {
      return undefined;
    }
    if (picked.choice === 'value') {
      const value = await vscode.window.showInputBox({
        title: `New value for ${key} (empty deletes it)`,
        password: true,
        ignoreFocusOut: true,
      });
      if (value === undefined) {
        return undefined;
      }
      choices.set(key, { kind: 'value', value: value === '' ? null : value });
    } else {
      choices.set(key, { kind: picked.choice });
    }
  }
  return choices;
}
