// One `envsync watch --json` child per workspace folder: its lines become typed events; if
// it dies it is restarted after a growing delay (reset once it has run a while); `stop`
// ends it for good (deactivate, folder removed).

import { type ChildProcess, spawn } from 'node:child_process';
import * as readline from 'node:readline';

import { ContractError, parseWatchLine, type WatchEvent } from './contract';
import { backoffMs } from './model';

export interface WatchOptions {
  binary: string;
  cwd: string;
  /** Ask the CLI to report instead of pulling (`--report`), when it supports it. */
  report: boolean;
  refreshSeconds: number | null;
  onEvent: (event: WatchEvent) => void;
  onExit: (code: number | null, stderr: string) => void;
  log: (line: string) => void;
}

/** A run this long counts as healthy: the next failure starts the backoff afresh. */
const HEALTHY_MS = 10_000;

export function watchArgs(report: boolean, refreshSeconds: number | null): string[] {
  const args = ['watch', '--json'];
  if (report) {
    args.push('--report');
  }
  if (refreshSeconds !== null && Number.isInteger(refreshSeconds) && refreshSeconds >= 0) {
    args.push('--refresh-seconds', String(refreshSeconds));
  }
  return args;
}

export class FolderWatch {
  private child: ChildProcess | null = null;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly options: WatchOptions) {}

  start() {
    if (this.stopped) {
      return;
    }
    const args = watchArgs(this.options.report, this.options.refreshSeconds);
    const started = Date.now();
    const child = spawn(this.options.binary, args, {
      cwd: this.options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.options.log(`${args.join(' ')} started in ${this.options.cwd}`);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    readline.createInterface({ input: child.stdout! }).on('line', (line) => this.line(line));
    child.on('error', () => undefined);
    child.on('close', (code) => {
      this.child = null;
      this.options.onExit(code, stderr);
      if (this.stopped) {
        return;
      }
      if (Date.now() - started > HEALTHY_MS) {
        this.attempt = 0;
      }
      const delay = backoffMs(this.attempt++);
      this.options.log(`watch exited (${code}); restarting in ${delay} ms`);
      this.timer = setTimeout(() => this.start(), delay);
    });
  }

  private line(line: string) {
    if (!line.trim()) {
      return;
    }
    try {
      this.options.onEvent(parseWatchLine(line));
    } catch (error) {
      const what = error instanceof ContractError ? error.message : 'unreadable watch line';
      this.options.log(what);
    }
  }

  stop() {
    this.stopped = true;
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.child?.kill('SIGTERM');
  }
}
