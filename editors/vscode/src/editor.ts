// In the editor: values of linked files masked by decorations from the first paint (the
// file and the user's settings are never changed), revealed one key at a time; and the
// variables given to new integrated terminals on request, through an
// EnvironmentVariableCollection with `persistent = false` so VS Code keeps them in memory.

import * as path from 'node:path';
import * as vscode from 'vscode';

import { parseVariables } from './contract';
import type { Controller } from './controller';
import { parseEntries } from './dotenv';
import { presenting } from './presentation';
import type { Root } from './views';

export class Masking implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    // The characters stay in the document; on screen they take no room and are invisible,
    // and a fixed-width mask is drawn in front of them.
    opacity: '0',
    letterSpacing: '-1em',
    before: { contentText: '••••••••', color: new vscode.ThemeColor('descriptionForeground') },
  });
  /** `file\0KEY` of values the user revealed. */
  private readonly revealed = new Set<string>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly controller: Controller) {
    this.subscriptions.push(
      vscode.window.onDidChangeVisibleTextEditors(() => this.paintAll()),
      vscode.workspace.onDidChangeTextDocument((event) => this.paintDocument(event.document)),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('envsync.maskValues')) {
          this.paintAll();
        }
      }),
    );
  }

  /** Whether a file is linked to an environment in some envsync.toml of the workspace. */
  isLinked(file: string): boolean {
    return this.controller.roots.some((root) =>
      root.state.linked().some((env) => path.join(root.dir, env.file) === file),
    );
  }

  paintAll() {
    for (const editor of vscode.window.visibleTextEditors) {
      this.paint(editor);
    }
  }

  private paintDocument(document: vscode.TextDocument) {
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document === document) {
        this.paint(editor);
      }
    }
  }

  private paint(editor: vscode.TextEditor) {
    const file = editor.document.uri.fsPath;
    const enabled = vscode.workspace.getConfiguration('envsync').get<boolean>('maskValues', true);
    if (!enabled || editor.document.uri.scheme !== 'file' || !this.isLinked(file)) {
      editor.setDecorations(this.decoration, []);
      return;
    }
    const ranges = parseEntries(editor.document.getText())
      .filter((entry) => entry.valueEnd > entry.valueStart)
      .filter((entry) => presenting() || !this.revealed.has(`${file}\u0000${entry.key}`))
      .map((entry) => new vscode.Range(entry.line, entry.valueStart, entry.line, entry.valueEnd));
    editor.setDecorations(this.decoration, ranges);
  }

  /** Unmasks one key's value in one file (from a hover's "Reveal"). */
  reveal(file: string, key: string) {
    this.revealed.add(`${file}\u0000${key}`);
    this.paintAll();
  }

  /** Reveals (or masks again) the value of the key under the cursor. */
  toggleAtCursor() {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      return;
    }
    const line = editor.selection.active.line;
    const entry = parseEntries(editor.document.getText()).find((found) => found.line === line);
    if (!entry) {
      return;
    }
    const key = `${editor.document.uri.fsPath}\u0000${entry.key}`;
    if (!this.revealed.delete(key)) {
      this.revealed.add(key);
    }
    this.paint(editor);
  }

  dispose() {
    this.decoration.dispose();
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }
}

/** Gives new terminals one environment's variables, in memory only. */
export async function giveTerminalsVariables(
  context: vscode.ExtensionContext,
  controller: Controller,
  dir: string,
  project: string,
  environment: string,
): Promise<number> {
  const result = await controller.cli.ok(
    ['export', '--format', 'json', '-p', project, '-e', environment],
    { cwd: dir },
  );
  const collection = context.environmentVariableCollection;
  collection.persistent = false;
  collection.clear();
  collection.description = `envsync: ${project}/${environment}`;
  const variables = parseVariables(result.stdout);
  for (const [name, value] of variables) {
    collection.replace(name, value);
  }
  return variables.size;
}

export function clearTerminalVariables(context: vscode.ExtensionContext) {
  context.environmentVariableCollection.persistent = false;
  context.environmentVariableCollection.clear();
}

/**
 * `"envsync": "staging"` (or `"app/staging"`) in a launch configuration: the environment's
 * variables are added to its `env` in memory when the session starts; nothing is written.
 */
export class DebugVariables implements vscode.DebugConfigurationProvider {
  constructor(private readonly controller: Controller) {}

  async resolveDebugConfiguration(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    const wanted = config.envsync;
    if (typeof wanted !== 'string' || wanted === '') {
      return config;
    }
    const found = findEnvironment(this.controller, wanted);
    if (!found) {
      void vscode.window.showErrorMessage(
        `envsync: no environment \`${wanted}\` in this workspace`,
      );
      return undefined;
    }
    const { root, project, environment } = found;
    const result = await this.controller.cli.ok(
      ['export', '--format', 'json', '-e', environment, '-p', project],
      { cwd: root.dir },
    );
    const variables = Object.fromEntries(parseVariables(result.stdout));
    return { ...config, env: { ...variables, ...(config.env ?? {}) } };
  }
}

/** `staging` or `app/staging`: the folder and project of the first environment matching. */
export function findEnvironment(
  controller: Controller,
  wanted: string,
): { root: Root; project: string; environment: string } | undefined {
  const [project, environment] = wanted.includes('/') ? wanted.split('/', 2) : [null, wanted];
  for (const root of controller.roots) {
    for (const env of root.state.environments.values()) {
      if (env.environment === environment && (project === null || env.project === project)) {
        return { root, project: env.project, environment };
      }
    }
  }
  return undefined;
}

/**
 * The `envsync.terminalEnvironment` setting (off when empty): new terminals get that
 * environment's variables without a command, in memory only as above.
 */
export async function applyTerminalSetting(
  context: vscode.ExtensionContext,
  controller: Controller,
  changed: boolean,
) {
  const wanted = vscode.workspace
    .getConfiguration('envsync')
    .get<string>('terminalEnvironment', '');
  if (wanted === '') {
    if (changed) {
      clearTerminalVariables(context);
    }
    return;
  }
  const found = findEnvironment(controller, wanted);
  if (!found) {
    void vscode.window.showWarningMessage(
      `envsync: envsync.terminalEnvironment names \`${wanted}\`, which no envsync.toml here has`,
    );
    return;
  }
  await giveTerminalsVariables(
    context,
    controller,
    found.root.dir,
    found.project,
    found.environment,
  );
}
