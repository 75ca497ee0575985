// The Env Sync view's three trees: Environments (root → project → environment, each row
// with its badge), Collaborators (members and those waiting, with an inline Accept) and
// History (of the environment selected in the first tree).

import * as path from 'node:path';
import * as vscode from 'vscode';

import type { EnvironmentState, LogEntry, Member, PendingMember } from './contract';
import { FolderState, presentBadge, rowTooltip } from './model';

/** A folder holding an envsync.toml: the CLI runs there. */
export interface Root {
  dir: string;
  name: string;
  state: FolderState;
}

export type EnvNode =
  | { kind: 'root'; root: Root }
  | { kind: 'project'; root: Root; project: string }
  | { kind: 'environment'; root: Root; env: EnvironmentState }
  | { kind: 'problem'; root: Root; message: string };

export class EnvironmentsTree implements vscode.TreeDataProvider<EnvNode> {
  private readonly changed = new vscode.EventEmitter<EnvNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** What the tree last showed (names, badges, files: no value). */
  private shown = '';

  constructor(private readonly roots: () => Root[]) {}

  /**
   * Redraws only when what the rows show changed. A redraw drops the rows' handles until
   * VS Code reads them again, and a context-menu command run in that gap gets no row (it
   * then asks "Which environment?"); the watches' repeated unchanged reports made that
   * gap frequent.
   */
  refresh() {
    const now = JSON.stringify(
      this.roots().map((root) => [
        root.dir,
        [...root.state.environments.values()].map((env) => [env, root.state.useRole(env)]),
        // The error shows only in place of the environments (see `projectsOf`).
        root.state.environments.size === 0 ? root.state.lastError : null,
      ]),
    );
    if (now !== this.shown) {
      this.shown = now;
      this.changed.fire(undefined);
    }
  }

  getChildren(node?: EnvNode): EnvNode[] {
    if (!node) {
      const roots = this.roots();
      if (roots.length === 1) {
        return this.projectsOf(roots[0]);
      }
      return roots.map((root) => ({ kind: 'root', root }));
    }
    if (node.kind === 'root') {
      return this.projectsOf(node.root);
    }
    if (node.kind === 'project') {
      const list = node.root.state.projects().get(node.project) ?? [];
      return list.map((env) => ({ kind: 'environment', root: node.root, env }));
    }
    return [];
  }

  /** The folder's projects; when its status could not be read and nothing is known, the
   * CLI's error instead (no token for the server, not a member yet…), not an empty view. */
  private projectsOf(root: Root): EnvNode[] {
    const { lastError } = root.state;
    if (lastError && root.state.environments.size === 0) {
      return [{ kind: 'problem', root, message: lastError }];
    }
    return [...root.state.projects().keys()].map((project) => ({
      kind: 'project',
      root,
      project,
    }));
  }

  getTreeItem(node: EnvNode): vscode.TreeItem {
    const expanded = vscode.TreeItemCollapsibleState.Expanded;
    if (node.kind === 'root') {
      const item = new vscode.TreeItem(node.root.name, expanded);
      item.iconPath = new vscode.ThemeIcon('root-folder');
      item.tooltip = node.root.dir;
      return item;
    }
    if (node.kind === 'problem') {
      const item = new vscode.TreeItem('status failed', vscode.TreeItemCollapsibleState.None);
      item.description = node.message;
      item.tooltip = `${node.root.dir}: ${node.message}`;
      item.iconPath = new vscode.ThemeIcon('warning');
      return item;
    }
    if (node.kind === 'project') {
      const item = new vscode.TreeItem(node.project, expanded);
      item.iconPath = new vscode.ThemeIcon('project');
      item.contextValue = 'project';
      item.id = `${node.root.dir}\u0000${node.project}`;
      return item;
    }
    return environmentItem(node.root, node.env);
  }
}

/**
 * An environment's row: its badge and, after it, the file that holds it. With `envsync use`
 * the default file sits under the environment it holds; the environment it was taken from
 * shows no file and no badge (its pull, push and sync are refused), only where its file went.
 * `contextValue` is `env:BADGE:USE_ROLE` (`displaced` for that one), read by package.json.
 */
function environmentItem(root: Root, env: EnvironmentState): vscode.TreeItem {
  const item = new vscode.TreeItem(env.environment, vscode.TreeItemCollapsibleState.None);
  item.id = `${root.dir}\u0000${env.project}\u0000${env.environment}`;
  item.tooltip = rowTooltip(env);
  const role = root.state.useRole(env);
  if (role === 'displaced') {
    item.description = `file in use by ${env.fileHolds}`;
    item.iconPath = new vscode.ThemeIcon('arrow-swap', new vscode.ThemeColor('disabledForeground'));
    item.contextValue = 'displaced';
    return item;
  }
  const badge = presentBadge(env.badge);
  const used = role === 'in_use' ? ' (in use)' : '';
  item.description = `${badge.label} · ${env.file}${used}`;
  if (role === 'in_use') {
    item.tooltip += `\n${env.file} holds it on this machine (envsync use).`;
  }
  item.iconPath = new vscode.ThemeIcon(
    badge.icon,
    badge.color ? new vscode.ThemeColor(badge.color) : undefined,
  );
  item.contextValue = `env:${env.badge}:${role}`;
  item.resourceUri = vscode.Uri.file(path.join(root.dir, env.file));
  return item;
}

export type CollaboratorNode =
  | { kind: 'project'; root: Root; project: string }
  | { kind: 'member'; root: Root; project: string; member: Member }
  | { kind: 'pending'; root: Root; pending: PendingMember; member: Member | null };

/** Members per project, read by `members list --json` when the view is drawn. */
export class CollaboratorsTree implements vscode.TreeDataProvider<CollaboratorNode> {
  private readonly changed = new vscode.EventEmitter<CollaboratorNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly roots: () => Root[],
    private readonly members: (root: Root, project: string) => Promise<Member[]>,
  ) {}

  refresh() {
    this.changed.fire(undefined);
  }

  async getChildren(node?: CollaboratorNode): Promise<CollaboratorNode[]> {
    if (!node) {
      return this.roots().flatMap((root) =>
        [...root.state.projects().keys()].map(
          (project): CollaboratorNode => ({ kind: 'project', root, project }),
        ),
      );
    }
    if (node.kind !== 'project') {
      return [];
    }
    const members = await this.members(node.root, node.project).catch(() => [] as Member[]);
    const pending = node.root.state.pending.filter((entry) => entry.project === node.project);
    const waiting: CollaboratorNode[] = pending.map((entry) => ({
      kind: 'pending',
      root: node.root,
      pending: entry,
      member: members.find((member) => member.fingerprint === entry.fingerprint) ?? null,
    }));
    const known: CollaboratorNode[] = members
      .filter((member) => member.status === 'trusted')
      .map((member) => ({ kind: 'member', root: node.root, project: node.project, member }));
    return [...waiting, ...known];
  }

  getTreeItem(node: CollaboratorNode): vscode.TreeItem {
    const none = vscode.TreeItemCollapsibleState.None;
    if (node.kind === 'project') {
      const item = new vscode.TreeItem(node.project, vscode.TreeItemCollapsibleState.Expanded);
      item.iconPath = new vscode.ThemeIcon('organization');
      return item;
    }
    if (node.kind === 'member') {
      const { member } = node;
      const item = new vscode.TreeItem(member.you ? `${member.name} (you)` : member.name, none);
      item.description = `${member.role ?? '-'} · ${member.environments?.join(', ') ?? 'all'}`;
      item.tooltip = `${member.name}\n${member.fingerprint}`;
      item.iconPath = new vscode.ThemeIcon('person');
      item.contextValue = 'member';
      return item;
    }
    const { pending } = node;
    const item = new vscode.TreeItem(pending.name, none);
    const what = pending.kind === 'request' ? 'asks for access' : 'new key';
    item.description = `${what} · ${pending.fingerprint}`;
    item.tooltip = `${pending.name} (${pending.fingerprint}) ${what} to ${pending.project}`;
    item.iconPath = new vscode.ThemeIcon('person-add', new vscode.ThemeColor('charts.yellow'));
    item.contextValue = 'pending';
    return item;
  }
}

export interface HistoryNode {
  entry: LogEntry;
}

/** The history of one environment, newest first. */
export class HistoryTree implements vscode.TreeDataProvider<HistoryNode> {
  private readonly changed = new vscode.EventEmitter<HistoryNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private entries: LogEntry[] = [];
  title = '';

  show(entries: LogEntry[]) {
    this.entries = entries;
    this.changed.fire(undefined);
  }

  getChildren(node?: HistoryNode): HistoryNode[] {
    return node ? [] : this.entries.map((entry) => ({ entry }));
  }

  getTreeItem({ entry }: HistoryNode): vscode.TreeItem {
    const item = new vscode.TreeItem(`v${entry.version} ${entry.message || '(no message)'}`);
    const changes = [
      ...entry.changes.added.map((key) => `+${key}`),
      ...entry.changes.changed.map((key) => `~${key}`),
      ...entry.changes.removed.map((key) => `-${key}`),
    ];
    item.description = `${entry.author} · ${entry.time}`;
    item.tooltip = [`version ${entry.version} by ${entry.author} (${entry.fingerprint})`]
      .concat(entry.time, entry.message, changes.join(' '))
      .filter(Boolean)
      .join('\n');
    item.iconPath = new vscode.ThemeIcon('git-commit');
    return item;
  }
}
