// Activation: check the CLI, find the workspaces, draw the view, start the watches and
// register every command. Nothing here prints a value: the output channel gets command
// names and exit codes only.

import * as os from 'node:os';
import * as vscode from 'vscode';

import { Actions } from './actions';
import { checkBinary, Cli, expandPath, healthMessage, INSTALL_COMMAND } from './cli';
import { Controller } from './controller';
import {
  applyTerminalSetting,
  clearTerminalVariables,
  DebugVariables,
  giveTerminalsVariables,
  Masking,
} from './editor';
import { KeysInCode } from './language';
import { type Member, parseMembers } from './contract';
import { Onboarding } from './onboarding';
import { togglePresentation } from './presentation';
import { resetUse, useEnvironment } from './use';
import { REMOTE_SCHEME, RemoteDocuments } from './remote';
import { CollaboratorsTree, EnvironmentsTree, type EnvNode, HistoryTree, type Root } from './views';

let controller: Controller | undefined;

function binaryPath(): string {
  const setting = vscode.workspace.getConfiguration('envsync').get<string>('path', '');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return expandPath(setting, folder, os.homedir()) || 'envsync';
}

function folderOf(): string {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir();
}

export async function activate(context: vscode.ExtensionContext) {
  const started = Date.now();
  const output = vscode.window.createOutputChannel('envsync');
  const log = (line: string) => output.appendLine(`[${new Date().toISOString()}] ${line}`);
  const cli = new Cli(binaryPath(), log);
  const envTree = new EnvironmentsTree(() => ctrl.roots);
  const members = (root: Root, project: string): Promise<Member[]> =>
    ctrl.cli
      .ok(['members', 'list', '--json', '-p', project], { cwd: root.dir })
      .then((result) => parseMembers(result.stdout));
  const collaborators = new CollaboratorsTree(() => ctrl.roots, members);
  const history = new HistoryTree();
  const ctrl = new Controller(cli, {
    redraw: () => {
      envTree.refresh();
      collaborators.refresh();
      masking.paintAll();
      keys.check();
    },
    log,
  });
  controller = ctrl;
  const masking = new Masking(ctrl);
  const keys = new KeysInCode(ctrl, masking);
  const actions = new Actions(ctrl, history);
  const onboarding = new Onboarding(ctrl);
  const remote = new RemoteDocuments(() => ctrl.cli);
  const envView = vscode.window.createTreeView('envsync.environments', {
    treeDataProvider: envTree,
    showCollapseAll: true,
  });
  context.subscriptions.push(
    output,
    ctrl,
    masking,
    keys,
    envView,
    vscode.debug.registerDebugConfigurationProvider('*', new DebugVariables(ctrl)),
    vscode.window.createTreeView('envsync.collaborators', { treeDataProvider: collaborators }),
    vscode.window.createTreeView('envsync.history', { treeDataProvider: history }),
    vscode.workspace.registerTextDocumentContentProvider(REMOTE_SCHEME, remote),
    envView.onDidChangeSelection((event) => {
      const node = event.selection[0];
      if (node?.kind === 'environment') {
        void actions.log(node, false).catch(() => undefined);
      }
    }),
  );
  registerCommands(context, ctrl, actions, onboarding, masking, remote);
  watchSettings(context, ctrl, remote);
  // The first read runs after activation returns: activation stays fast.
  void start(ctrl).then(() => {
    log(`first status read ${Date.now() - started} ms after start`);
    return applyTerminalSetting(context, ctrl, false).catch((error: unknown) =>
      log(`terminal variables: ${error instanceof Error ? error.message : String(error)}`),
    );
  });
  log(`activated in ${Date.now() - started} ms`);
}

/** Health check, then the first read and the watches. */
async function start(ctrl: Controller) {
  const health = await checkBinary(ctrl.cli, folderOf());
  const problem = healthMessage(health);
  if (problem) {
    ctrl.stopWatches();
    ctrl.statusBar.text = '$(warning) envsync: CLI not found';
    ctrl.statusBar.command = 'envsync.health';
    const choice = await vscode.window.showErrorMessage(
      problem,
      'Copy install command',
      'Open settings',
    );
    if (choice === 'Copy install command') {
      await vscode.env.clipboard.writeText(INSTALL_COMMAND);
    } else if (choice === 'Open settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'envsync.path');
    }
    return;
  }
  ctrl.statusBar.command = 'envsync.showView';
  const cwd = folderOf();
  const [watchHelp, syncHelp] = await Promise.all([
    ctrl.cli.run(['watch', '--help'], { cwd, timeoutMs: 5_000 }),
    ctrl.cli.run(['sync', '--help'], { cwd, timeoutMs: 5_000 }),
  ]);
  ctrl.reportSupported = watchHelp.stdout.includes('--report');
  ctrl.resolveSupported = syncHelp.stdout.includes('--resolve');
  await ctrl.discover();
  await ctrl.refresh();
  ctrl.startWatches();
}

function registerCommands(
  context: vscode.ExtensionContext,
  ctrl: Controller,
  actions: Actions,
  onboarding: Onboarding,
  masking: Masking,
  remote: RemoteDocuments,
) {
  const guard =
    <T extends unknown[]>(run: (...args: T) => Promise<unknown> | unknown) =>
    async (...args: T) => {
      try {
        await run(...args);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        void vscode.window.showErrorMessage(`envsync: ${message}`);
      }
    };
  const commands: Record<string, (...args: never[]) => unknown> = {
    'envsync.refresh': () => ctrl.discover().then(() => ctrl.refresh()),
    'envsync.pull': (node?: EnvNode) => actions.pull(node),
    'envsync.push': (node?: EnvNode) => actions.push(node),
    'envsync.sync': (node?: EnvNode) => actions.sync(node),
    'envsync.diff': (node?: EnvNode) => actions.diff(node),
    'envsync.log': (node?: EnvNode) => actions.log(node),
    'envsync.rollback': (node?: EnvNode) => actions.rollback(node),
    'envsync.openFile': (node?: EnvNode) => actions.openFile(node),
    'envsync.runWith': (node?: EnvNode) => actions.runWith(node),
    'envsync.export': (node?: EnvNode) => actions.export(node),
    'envsync.use': async (node?: EnvNode) => {
      const target = await actions.target(node);
      return target && useEnvironment(ctrl, target);
    },
    'envsync.useReset': async (node?: EnvNode) => {
      const target = await actions.target(node);
      return target && resetUse(ctrl, target);
    },
    'envsync.acceptMember': (node?: Parameters<Onboarding['accept']>[0]) => onboarding.accept(node),
    'envsync.init': () => onboarding.init(),
    'envsync.join': () => onboarding.join(),
    'envsync.login': () => onboarding.login(),
    'envsync.invite': () => onboarding.invite(),
    'envsync.share': () => onboarding.share(),
    'envsync.audit': () => onboarding.audit(),
    'envsync.health': () => restart(ctrl),
    'envsync.showView': () => vscode.commands.executeCommand('workbench.view.extension.envsync'),
    'envsync.toggleMask': () => {
      const uri = vscode.window.activeTextEditor?.document.uri;
      return uri?.scheme === REMOTE_SCHEME ? remote.toggle(uri) : masking.toggleAtCursor();
    },
    'envsync.terminalEnv': async (node?: EnvNode) => {
      const target = await actions.target(node);
      if (target) {
        const { project, environment } = target.env;
        const count = await giveTerminalsVariables(
          context,
          ctrl,
          target.root.dir,
          project,
          environment,
        );
        void vscode.window.showInformationMessage(
          `envsync: new terminals get ${count} variables of ${project}/${environment}.`,
        );
      }
    },
    'envsync.terminalEnvClear': () => clearTerminalVariables(context),
    'envsync.presentationMode': () => {
      const now = togglePresentation();
      masking.paintAll();
      remote.refreshAll();
      void vscode.window.showInformationMessage(
        now
          ? 'envsync: presentation mode on: every value is masked.'
          : 'envsync: presentation mode off.',
      );
    },
  };
  for (const [name, run] of Object.entries(commands)) {
    context.subscriptions.push(vscode.commands.registerCommand(name, guard(run)));
  }
}

async function restart(ctrl: Controller) {
  ctrl.stopWatches();
  ctrl.cli = new Cli(binaryPath(), ctrl.cli.log);
  await start(ctrl);
}

function watchSettings(
  context: vscode.ExtensionContext,
  ctrl: Controller,
  remote: RemoteDocuments,
) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('envsync.path')) {
        void restart(ctrl);
      } else if (event.affectsConfiguration('envsync.autoRefreshSeconds')) {
        ctrl.startWatches();
      }
      if (event.affectsConfiguration('envsync.showValuesInDiff')) {
        remote.refreshAll();
      }
      if (event.affectsConfiguration('envsync.terminalEnvironment')) {
        void applyTerminalSetting(context, ctrl, true).catch(() => undefined);
      }
    }),
    vscode.workspace.onDidSaveTextDocument(() => {
      ctrl.onDocumentsChanged();
      void ctrl.refresh();
    }),
    vscode.workspace.onDidChangeTextDocument(() => ctrl.onDocumentsChanged()),
    vscode.workspace.onDidCloseTextDocument(() => ctrl.onDocumentsChanged()),
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      ctrl.cli.log('workspace folders changed');
      void restart(ctrl);
    }),
  );
}

export function deactivate() {
  controller?.stopWatches();
  controller = undefined;
}
