// Palette commands that set a workspace up or talk to the server: initialise, join, sign in
// with a token (on stdin, never on the command line), invite, share, audit, accept a member.
// Secrets typed here go straight to the CLI's stdin and are never kept or logged.

import * as path from 'node:path';

import * as vscode from 'vscode';

import { failureMessage, type RunResult } from './cli';
import { type Member, parseJson, parseShared } from './contract';
import type { Controller } from './controller';
import type { CollaboratorNode, Root } from './views';

export class Onboarding {
  constructor(private readonly controller: Controller) {}

  private get cli() {
    return this.controller.cli;
  }

  /** The folder a command runs in: the only one, else the one the user picks. */
  private async folder(): Promise<string | undefined> {
    const roots = this.controller.roots.map((root) => root.dir);
    const folders = vscode.workspace.workspaceFolders?.map((folder) => folder.uri.fsPath) ?? [];
    const all = [...new Set([...roots, ...folders])];
    if (all.length <= 1) {
      return all[0];
    }
    return vscode.window.showQuickPick(all, { placeHolder: 'In which folder?' });
  }

  /** `-p PROJECT` when the folder's envsync.toml holds several projects (the CLI would refuse
   * to guess), after asking which; none for one project; undefined when the user cancels. */
  private async projectArgs(cwd: string): Promise<string[] | undefined> {
    const root = this.controller.roots.find((candidate) => candidate.dir === cwd);
    const projects = root ? [...root.state.projects().keys()] : [];
    if (projects.length <= 1) {
      return [];
    }
    const picked = await vscode.window.showQuickPick(projects, { placeHolder: 'Which project?' });
    return picked === undefined ? undefined : ['-p', picked];
  }

  private async done(result: RunResult, success: string) {
    if (result.code !== 0) {
      void vscode.window.showErrorMessage(`envsync: ${failureMessage(result)}`);
      return false;
    }
    void vscode.window.showInformationMessage(`envsync: ${success}`);
    await this.controller.discover();
    await this.controller.refresh();
    this.controller.startWatches();
    return true;
  }

  async init() {
    const cwd = await this.folder();
    const remote =
      cwd &&
      (await vscode.window.showInputBox({
        title: 'envsync: remote',
        prompt: 'An envsync server (https://host:port), a bucket URL or a folder path',
        ignoreFocusOut: true,
      }));
    const project = remote && (await input('Project name', path.basename(cwd)));
    const environment = project && (await input('Environment name', 'development'));
    const file = environment && (await input('Linked file', '.env'));
    if (!cwd || !remote || !project || !environment || !file) {
      return;
    }
    const args = ['init', '--remote', remote, '-p', project, '--env', environment, '--file', file];
    const result = await this.cli.run(args, { cwd });
    await this.done(result, `initialised ${cwd}`);
  }

  async join() {
    const cwd = await this.folder();
    const how = cwd && (await vscode.window.showQuickPick(['Server URL and code', '.share file']));
    if (!cwd || !how) {
      return;
    }
    if (how === '.share file') {
      const picked = await vscode.window.showOpenDialog({ filters: { share: ['share'] } });
      const passphrase =
        picked && (await vscode.window.showInputBox({ title: 'Passphrase', password: true }));
      if (!picked || passphrase === undefined) {
        return;
      }
      const result = await slowly('opening the bundle', () =>
        this.cli.run(['join', picked[0].fsPath], { cwd, input: `${passphrase}\n` }),
      );
      await this.done(result, 'joined; an owner must accept you');
      return;
    }
    const url = await input('Server URL', 'https://');
    const code = url && (await vscode.window.showInputBox({ title: 'Code', password: true }));
    if (!url || !code) {
      return;
    }
    // `-`: the CLI reads the code from stdin, so it is never on a command line (`ps`).
    const result = await this.cli.run(['join', url, '-'], { cwd, input: `${code}\n` });
    await this.done(result, 'joined');
  }

  async login() {
    const cwd = await this.folder();
    const url = cwd && (await input('Server URL', 'https://'));
    const token =
      url &&
      (await vscode.window.showInputBox({
        title: 'Token (esk_…)',
        password: true,
        ignoreFocusOut: true,
      }));
    if (!cwd || !url || !token) {
      return;
    }
    const result = await this.cli.run(['login', url], { cwd, input: `${token}\n` });
    await this.done(result, `signed in to ${url}`);
  }

  async invite() {
    const cwd = await this.folder();
    const project = cwd && (await this.projectArgs(cwd));
    const role = project && (await vscode.window.showQuickPick(['writer', 'reader', 'owner']));
    if (!cwd || !project || !role) {
      return;
    }
    const result = await this.cli.run(['invite', ...project, '--role', role], { cwd });
    if (result.code !== 0) {
      void vscode.window.showErrorMessage(`envsync: ${failureMessage(result)}`);
      return;
    }
    const line = result.stdout.split('\n').find((entry) => entry.includes('envsync join'));
    await vscode.env.clipboard.writeText((line ?? result.stdout).trim());
    void vscode.window.showInformationMessage(
      'envsync: the join line is on the clipboard: send it to your teammate.',
    );
  }

  /** `envsync share`: the CLI writes the bundle and chooses its passphrase, shown here once
   * (in a modal, never a toast that stays in the notification centre) with a copy button. */
  async share() {
    const cwd = await this.folder();
    const project = cwd && (await this.projectArgs(cwd));
    const where =
      project && (await vscode.window.showSaveDialog({ filters: { share: ['share'] } }));
    if (!cwd || !project || !where) {
      return;
    }
    const result = await slowly('writing the bundle', () =>
      this.cli.run(['share', ...project, '--json', '--output', where.fsPath], { cwd }),
    );
    if (result.code !== 0) {
      void vscode.window.showErrorMessage(`envsync: ${failureMessage(result)}`);
      return;
    }
    const shared = parseShared(result.stdout);
    const detail = [
      'Send the bundle to your teammate, and this passphrase on another channel (a call, ' +
        'a different chat). It is shown only once:',
      '',
      shared.passphrase,
      '',
      'They run "envsync: Join a Project" with the .share file (or `envsync join FILE`); ' +
        'then you accept them.',
    ].join('\n');
    const copy = 'Copy Passphrase';
    const picked = await vscode.window.showInformationMessage(
      `envsync: wrote ${shared.bundle}`,
      { modal: true, detail },
      copy,
    );
    if (picked === copy) {
      await vscode.env.clipboard.writeText(shared.passphrase);
    }
  }

  /** The audit log as a read-only JSON document (in memory: an untitled, unsaved editor). */
  async audit() {
    const cwd = await this.folder();
    const action =
      cwd &&
      (await vscode.window.showInputBox({
        title: 'Filter by action (empty: all)',
        placeHolder: 'version.push, member.add, auth.failed…',
      }));
    if (!cwd || action === undefined) {
      return;
    }
    const args = ['audit', '--json', ...(action ? ['--action', action] : [])];
    const result = await this.cli.run(args, { cwd });
    if (result.code !== 0) {
      void vscode.window.showErrorMessage(`envsync: ${failureMessage(result)}`);
      return;
    }
    const text = JSON.stringify(parseJson(result.stdout, 'audit'), null, 2);
    const document = await vscode.workspace.openTextDocument({ language: 'json', content: text });
    await vscode.window.showTextDocument(document, { preview: true });
  }

  /** Accept from the Collaborators view: shows name, fingerprint and role before signing. */
  async accept(node?: CollaboratorNode) {
    if (!node || node.kind !== 'pending') {
      return;
    }
    const { pending } = node;
    const role = pending.kind === 'request' ? await pickRole(pending.name, node.member) : null;
    if (role === undefined) {
      return;
    }
    const what =
      pending.kind === 'request'
        ? `Admit ${pending.name} to ${pending.project}?`
        : `Trust the new key of ${pending.name} in ${pending.project}?`;
    const detail = [
      `Fingerprint: ${pending.fingerprint}`,
      role ? `Role: ${role} on every environment` : describeAccess(node.member),
      '',
      `Compare the fingerprint with what ${pending.name} sees in \`envsync whoami\` before ` +
        'you sign.',
    ].join('\n');
    const ok = await vscode.window.showWarningMessage(
      what,
      { modal: true, detail },
      'Accept and sign',
    );
    if (ok !== 'Accept and sign') {
      return;
    }
    const args = ['members', 'accept', pending.fingerprint, '-p', pending.project, '--yes'];
    const result = await this.cli.run([...args, ...(role ? ['--role', role] : [])], {
      cwd: node.root.dir,
    });
    await this.done(result, `accepted ${pending.name}`);
  }
}

/** The role to grant: the invite's (as `members list` reads it from the owner-signed invite),
 * or one the owner picks. Undefined when cancelled. */
async function pickRole(name: string, request: Member | null): Promise<string | null | undefined> {
  const invited = request?.role ? describeAccess(request).replace(/^Role: /, '') : null;
  const picked = await vscode.window.showQuickPick(
    [
      {
        label: 'As the invite gave',
        description: invited ?? `the role in ${name}'s invite`,
        role: null,
      },
      { label: 'writer', description: 'read and push every environment', role: 'writer' },
      { label: 'reader', description: 'read every environment', role: 'reader' },
      { label: 'owner', description: 'also manage members', role: 'owner' },
    ],
    { title: `Accept ${name} as…` },
  );
  return picked === undefined ? undefined : picked.role;
}

export function describeAccess(member: Member | null): string {
  if (!member) {
    return 'Role: as the invite gave';
  }
  if (member.role === null) {
    return 'Role: none — the invite does not check out, so accepting will be refused';
  }
  const environments = member.environments?.join(', ') ?? 'every environment';
  return `Role: ${member.role} on ${environments}`;
}

/** Runs a command that takes seconds (the passphrase key is derived on purpose slowly) under
 * a progress notification, so the wait does not look like a hang. */
function slowly<T>(what: string, run: () => Promise<T>): Promise<T> {
  const title = `envsync: ${what} (a few seconds)…`;
  return Promise.resolve(
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, run),
  );
}

function input(title: string, value: string) {
  return vscode.window.showInputBox({ title, value, ignoreFocusOut: true });
}

export type { Root };
