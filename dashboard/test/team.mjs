// A real `envsync server` on a loopback port and teammates who use the real CLI, each with
// their own HOME (identity, credentials) and workspace clone; and the headless Debian
// chromium every browser suite drives, with the screenshot helper they share.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const BIN = process.env.ENVSYNC_BIN;
if (!BIN) throw new Error('set ENVSYNC_BIN to the envsync binary under test');

/** Where screenshots (and figures) go: scripts/test.sh sets it; dashboard/test-output else. */
export const OUT_DIR = process.env.OUT_DIR ?? new URL('../test-output', import.meta.url).pathname;
mkdirSync(OUT_DIR, { recursive: true });

/** The system's chromium (no browser download), headless, as scripts/test.sh finds it. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** A full-page screenshot `OUT_DIR/NAME.png`. */
export const shot = (page, name) =>
  page.screenshot({ path: join(OUT_DIR, `${name}.png`), fullPage: true });

export class Team {
  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'envsync-dashboard-'));
    this.server = null;
    this.browser = null;
  }

  /** Launches the browser that {@link Team#stop} closes. */
  async launchBrowser() {
    this.browser = await launchBrowser();
    return this.browser;
  }

  /** Starts `envsync server` (extra args) and waits for its `listening` line. */
  async start(args = []) {
    const data = join(this.root, 'server');
    const child = spawn(BIN, ['server', '--listen', '127.0.0.1:0', '--data-dir', data, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH, HOME: this.root },
    });
    this.log = '';
    const lines = createInterface({ input: child.stderr });
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server did not start:\n${this.log}`)),
        30000,
      );
      lines.on('line', (line) => {
        this.log += `${line}\n`;
        const code = line.match(/^owner setup code: (\S+)/);
        if (code) this.setupCode = code[1];
        const listening = line.match(/listening on (\S+)/);
        if (listening) {
          clearTimeout(timer);
          resolve(listening[1]);
        }
      });
    });
    this.server = child;
    this.url = url;
    this.database = join(data, 'envsync.db');
    return url;
  }

  /** Alice, the server's owner, with `development` and `staging` pushed (one API_KEY each). */
  owner(development, staging) {
    const alice = this.member('alice');
    alice.run(['join', this.url, this.setupCode]);
    alice.write('.env', `API_KEY=${development}\n`);
    alice.run(['push', '-m', 'first development']);
    alice.write('.env.staging', `API_KEY=${staging}\n`);
    alice.run(['push', '-e', 'staging', '-m', 'first staging']);
    return alice;
  }

  member(name) {
    const home = join(this.root, 'homes', name);
    const workspace = join(this.root, `clone-${name}`);
    mkdirSync(home, { recursive: true });
    mkdirSync(workspace, { recursive: true });
    writeFileSync(
      join(workspace, 'envsync.toml'),
      `remote = "${this.url}"\n\n[projects.app]\ndefault_environment = "development"\n\n` +
        `[projects.app.environments]\ndevelopment = ".env"\nstaging = ".env.staging"\n`,
    );
    const mate = new Teammate(name, home, workspace);
    mate.run(['keygen', '--name', name]);
    return mate;
  }

  /** Closes the browser (if any), stops the server and removes every teammate's files. */
  async stop() {
    await this.browser?.close();
    this.server?.kill('SIGTERM');
    rmSync(this.root, { recursive: true, force: true });
  }
}

export class Teammate {
  constructor(name, home, workspace) {
    Object.assign(this, { name, home, workspace });
  }

  run(args) {
    return execFileSync(BIN, args, {
      cwd: this.workspace,
      env: { PATH: process.env.PATH, HOME: this.home, NO_COLOR: '1', ENVSYNC_KEYCHAIN: 'off' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  json(args) {
    return JSON.parse(this.run([...args, '--json']));
  }

  write(file, text) {
    writeFileSync(join(this.workspace, file), text);
  }

  /** The personal token `envsync join` stored. */
  token() {
    const text = readFileSync(join(this.home, '.config/envsync/credentials.toml'), 'utf8');
    return text.split('"').find((word) => word.startsWith('esk_'));
  }

  fingerprint() {
    return this.json(['whoami']).fingerprint;
  }

  /** The age identity file `envsync keygen` wrote, as a user pastes it to unlock. */
  identity() {
    return readFileSync(join(this.home, '.config/envsync/identity.txt'), 'utf8');
  }
}

/** The invite code in `envsync invite`'s output. */
export function inviteCode(output) {
  return output.split(/[\s"`]/).find((word) => word.startsWith('esi_'));
}
