// `envsync use` from the view: point a project's default file (`.env`) at another
// environment on this machine, and back with `use --reset`. The CLI checks and writes
// everything (it refuses while the file has unpushed edits); the extension refuses first
// when the file has unsaved edits in an editor, which the CLI cannot see.

import * as path from 'node:path';
import * as vscode from 'vscode';

import type { Target } from './actions';
import { failureMessage } from './cli';
import { parseUsed, type Used } from './contract';
import type { Controller } from './controller';
import type { Root } from './views';

/** Makes the default file hold `target`'s environment; its displaced row goes back. */
export async function useEnvironment(controller: Controller, target: Target): Promise<void> {
  const reset = target.root.state.useRole(target.env) === 'displaced';
  await runUse(controller, target.root, target.env.project, reset ? null : target.env.environment);
}

/** `use --reset`: the default file holds the project's default environment again. */
export async function resetUse(controller: Controller, target: Target): Promise<void> {
  await runUse(controller, target.root, target.env.project, null);
}

/** `environment` null resets. */
async function runUse(
  controller: Controller,
  root: Root,
  project: string,
  environment: string | null,
): Promise<void> {
  const dirty = unsavedDefaultFile(root, project);
  if (dirty) {
    void vscode.window.showWarningMessage(
      `envsync: ${dirty} has unsaved edits; save or revert them before switching it to ` +
        'another environment.',
    );
    return;
  }
  const which = environment === null ? ['--reset'] : [environment];
  const result = await controller.cli.run(['use', '--json', '-p', project, ...which], {
    cwd: root.dir,
  });
  await controller.refreshRoot(root);
  controller.redraw();
  if (result.code !== 0) {
    void vscode.window.showErrorMessage(`envsync: ${failureMessage(result)}`);
    return;
  }
  // A watch reads which file holds which environment when it starts.
  controller.startWatches();
  void vscode.window.setStatusBarMessage(`envsync: ${describe(parseUsed(result.stdout))}`, 5000);
}

function describe(used: Used): string {
  const place = `${used.project}/${used.environment}`;
  if (used.version === null) {
    return `${used.file} already holds ${place}`;
  }
  return `${used.file} now holds ${place} version ${used.version} (was ${used.previous})`;
}

/**
 * The project's default file if an editor has unsaved edits in it. Which file that is shows
 * in the status: the file of the environment `use` displaced, else of the environment the
 * project's default chose; when a branch map chose, any linked file of the project counts.
 */
function unsavedDefaultFile(root: Root, project: string): string | undefined {
  const states = [...root.state.environments.values()].filter((env) => env.project === project);
  const current = root.state.current.find((entry) => entry.project === project);
  const byDefault =
    current?.chosenBy === 'default'
      ? states.find((env) => env.environment === current.environment)
      : undefined;
  const known = states.find((env) => env.fileHolds !== null) ?? byDefault;
  const candidates = known ? [known.file] : states.map((env) => env.file);
  const dirty = new Set(
    vscode.workspace.textDocuments
      .filter((document) => document.isDirty)
      .map((document) => document.uri.fsPath),
  );
  return candidates.find((file) => dirty.has(path.join(root.dir, file)));
}
