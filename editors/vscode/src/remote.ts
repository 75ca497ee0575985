// The remote head as a read-only document for the diff editor, decrypted by the CLI into
// memory and never written to disk. Values are masked unless `envsync.showValuesInDiff` is
// on or the user revealed them for this document.

import * as vscode from 'vscode';

import { Cli, CliFailure, failureMessage } from './cli';
import { parseVariables } from './contract';
import { renderDotenv } from './dotenv';
import { presenting } from './presentation';

export const REMOTE_SCHEME = 'envsync-remote';

/** `envsync-remote:/PROJECT/ENVIRONMENT.env?dir=...` */
export function remoteUri(dir: string, project: string, environment: string): vscode.Uri {
  return vscode.Uri.from({
    scheme: REMOTE_SCHEME,
    path: `/${project}/${environment} (remote)`,
    query: new URLSearchParams({ dir, project, environment }).toString(),
  });
}

/** The remote head's variables, in memory only. */
export async function remoteVariables(
  cli: Cli,
  dir: string,
  project: string,
  environment: string,
): Promise<Map<string, string>> {
  const args = ['export', '--remote', '--format', 'json', '-p', project, '-e', environment];
  const result = await cli.run(args, { cwd: dir });
  if (result.code !== 0) {
    throw new CliFailure('export --remote', result.code, failureMessage(result));
  }
  return parseVariables(result.stdout);
}

export class RemoteDocuments implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly revealed = new Set<string>();

  constructor(private readonly cli: () => Cli) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const query = new URLSearchParams(uri.query);
    const [dir, project, environment] = ['dir', 'project', 'environment'].map(
      (name) => query.get(name) ?? '',
    );
    const variables = await remoteVariables(this.cli(), dir, project, environment);
    const show =
      !presenting() &&
      (vscode.workspace.getConfiguration('envsync').get<boolean>('showValuesInDiff', false) ||
        this.revealed.has(uri.toString()));
    return renderDotenv(variables, !show);
  }

  /** Reveals (or masks again) the values of one remote document. */
  toggle(uri: vscode.Uri) {
    const key = uri.toString();
    if (!this.revealed.delete(key)) {
      this.revealed.add(key);
    }
    this.changed.fire(uri);
  }

  refreshAll() {
    for (const document of vscode.workspace.textDocuments) {
      if (document.uri.scheme === REMOTE_SCHEME) {
        this.changed.fire(document.uri);
      }
    }
  }
}
