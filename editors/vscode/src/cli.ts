// Running the `envsync` binary: finding it, checking its version, and running one command
// with a timeout so a hung or missing CLI never hangs the extension. Values only ever pass
// through memory (stdout of `export`, stdin of `login`); nothing here logs stdout.

import { spawn } from 'node:child_process';
import * as path from 'node:path';

import { parseCliError, parseVersion, versionAtLeast } from './contract';

/** The oldest CLI whose `--json` output this extension reads. */
export const MINIMUM_CLI: readonly [number, number, number] = [0, 1, 0];
export const INSTALL_COMMAND = 'cargo install --locked --path crates/envsync';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  /** Written to the child's stdin, then closed (a token, a passphrase, a value). */
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** A failed command: its exit code and the CLI's one-line error (never a value). */
export class CliFailure extends Error {
  constructor(
    readonly command: string,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}

/** Expands `${workspaceFolder}` and `~` in the `envsync.path` setting. */
export function expandPath(setting: string, workspaceFolder: string | undefined, home: string) {
  let expanded = setting.trim();
  if (workspaceFolder !== undefined) {
    expanded = expanded.split('${workspaceFolder}').join(workspaceFolder);
  }
  if (expanded === '~' || expanded.startsWith('~/')) {
    expanded = path.join(home, expanded.slice(1));
  }
  return expanded;
}

export class Cli {
  constructor(
    readonly binary: string,
    readonly log: (line: string) => void,
  ) {}

  /** Runs `envsync ARGS`; resolves with the exit code even when it is not 0. */
  run(args: readonly string[], options: RunOptions): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn(this.binary, [...args], {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (error) => {
        clearTimeout(timer);
        resolve({ code: 127, stdout: '', stderr: error.message });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const result = {
          code: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
        };
        this.log(`envsync ${args[0] ?? ''} ${args[1] ?? ''}`.trimEnd() + ` -> ${result.code}`);
        resolve(result);
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input ?? '');
    });
  }

  /** Runs a command that must succeed; throws its one-line error otherwise. */
  async ok(args: readonly string[], options: RunOptions): Promise<RunResult> {
    const result = await this.run(args, options);
    if (result.code !== 0) {
      throw new CliFailure(args.join(' '), result.code, failureMessage(result));
    }
    return result;
  }
}

/** The CLI's own error headline: the JSON error document, else the `error:` line. */
export function failureMessage(result: RunResult): string {
  const document = parseCliError(result.stdout);
  if (document) {
    return document.error;
  }
  const line = result.stderr
    .split('\n')
    .map((entry) => entry.trim())
    .find((entry) => entry.startsWith('error:'));
  if (line) {
    return line.slice('error:'.length).trim();
  }
  return result.stderr.trim().split('\n')[0] || `envsync exited with ${result.code}`;
}

export type Health =
  | { kind: 'ok'; version: string }
  | { kind: 'missing'; binary: string }
  | { kind: 'too_old'; version: string };

/** `envsync --version`, read within a few seconds: found, and new enough? */
export async function checkBinary(cli: Cli, cwd: string): Promise<Health> {
  const result = await cli.run(['--version'], { cwd, timeoutMs: 5_000 });
  if (result.code !== 0) {
    return { kind: 'missing', binary: cli.binary };
  }
  const version = parseVersion(result.stdout);
  if (version === null) {
    return { kind: 'missing', binary: cli.binary };
  }
  const shown = version.join('.');
  return versionAtLeast(version, MINIMUM_CLI)
    ? { kind: 'ok', version: shown }
    : { kind: 'too_old', version: shown };
}

/** What to tell the user about a binary that is not usable. */
export function healthMessage(health: Health): string | null {
  const needed = MINIMUM_CLI.join('.');
  switch (health.kind) {
    case 'ok':
      return null;
    case 'missing':
      return (
        `envsync: the envsync CLI was not found (${health.binary}). Install it with ` +
        `\`${INSTALL_COMMAND}\` or set envsync.path.`
      );
    case 'too_old':
      return (
        `envsync: the envsync CLI is ${health.version}; this extension needs ${needed} or ` +
        `newer. Update it with \`${INSTALL_COMMAND}\`.`
      );
  }
}
