// The end-to-end world: a real `envsync server` on loopback, teammates played with the real
// CLI, a real code-server (VS Code 1.100.3) with the built extension installed, and headless
// Debian chromium driven by playwright-core. Nothing is mocked.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ENVSYNC_BIN = process.env.ENVSYNC_BIN;
export const CODE_SERVER = process.env.CODE_SERVER; // .../code-server/out/node/entry.js
export const VSIX = process.env.VSIX;
export const OUT_DIR = process.env.OUT_DIR ?? path.resolve('test-output/e2e');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export const CONFIG = (remote) => `remote = "${remote}"
auto_refresh_seconds = 0

[projects.app]
default_environment = "development"

[projects.app.environments]
development = ".env"
staging = ".env.staging"
qa = ".env.qa"
review = ".env.review"
`;

/** Waits until `check` returns a truthy value, polling; throws with `what` on timeout. */
export async function until(what, check, timeoutMs = 15_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

/** A teammate: a home (identity, credentials) and a workspace clone. */
export class Person {
  constructor(root, name, remote) {
    this.name = name;
    this.home = path.join(root, 'homes', name);
    this.workspace = path.join(root, `ws-${name}`);
    fs.mkdirSync(path.join(this.home, '.config'), { recursive: true });
    fs.mkdirSync(this.workspace, { recursive: true });
    fs.writeFileSync(path.join(this.workspace, 'envsync.toml'), CONFIG(remote));
  }

  env(extra = {}) {
    return {
      PATH: process.env.PATH,
      HOME: this.home,
      XDG_CONFIG_HOME: path.join(this.home, '.config'),
      ...extra,
    };
  }

  /** Runs envsync (in `cwd`, by default the workspace); throws with its stderr unless the
   * exit code is `expect`. */
  run(args, { expect = 0, input, cwd = this.workspace } = {}) {
    const result = spawnSync(ENVSYNC_BIN, args, {
      cwd,
      env: this.env(),
      input: input ?? '',
      encoding: 'utf8',
    });
    if (expect !== null && result.status !== expect) {
      throw new Error(
        `${this.name}: envsync ${args.join(' ')} exited ${result.status}:\n${result.stderr}`,
      );
    }
    return result;
  }

  write(file, text) {
    fs.writeFileSync(path.join(this.workspace, file), text, { mode: 0o600 });
  }

  read(file) {
    return fs.readFileSync(path.join(this.workspace, file), 'utf8');
  }

  badge(environment) {
    const status = JSON.parse(this.run(['status', '--json']).stdout);
    return status.environments.find((row) => row.environment === environment)?.badge;
  }

  fingerprint() {
    return JSON.parse(this.run(['whoami', '--json']).stdout).fingerprint;
  }
}

/** `envsync server` on an ephemeral port; its URL and owner setup code. */
export async function startServer(root) {
  const dataDir = path.join(root, 'server-data');
  fs.mkdirSync(dataDir, { recursive: true });
  const child = spawn(ENVSYNC_BIN, ['server', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    env: { PATH: process.env.PATH, HOME: path.join(root, 'server-home') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk.toString()));
  const url = await until(
    'the server to listen',
    () => /listening on (\S+)/.exec(log)?.[1],
    60_000,
  );
  const setupCode = /owner setup code: (\S+)/.exec(log)?.[1];
  return { child, url, setupCode, log: () => log };
}

/** The invite code (`esi_…`) in a command's output. */
export function inviteCode(result) {
  const word = `${result.stdout} ${result.stderr}`
    .split(/[\s"`]+/)
    .find((entry) => entry.startsWith('esi_'));
  if (!word) throw new Error(`no invite code in ${result.stdout}`);
  return word;
}

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const USER_SETTINGS = JSON.stringify(
  {
    'workbench.startupEditor': 'none',
    // What desktop VS Code does (the web build saves after a delay by default).
    'files.autoSave': 'off',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'workbench.tips.enabled': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'terminal.integrated.enablePersistentSessions': false,
    'workbench.enableExperiments': false,
    'chat.commandCenter.enabled': false,
  },
  null,
  2,
);

/** code-server as `person` (their HOME and identity), the extension installed from the VSIX. */
export async function startCodeServer(root, person, { pathDirs }) {
  const userData = path.join(root, 'vscode-user-data');
  const extensions = path.join(root, 'vscode-extensions');
  const tmp = path.join(root, 'tmp');
  for (const dir of [path.join(userData, 'User'), extensions, tmp]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), USER_SETTINGS);
  // VS Code resolves the extension host's environment from a login shell, as a user's
  // would be: the profile puts envsync on PATH.
  const profile = `export PATH="${pathDirs.join(':')}:$PATH"\nexport HISTFILE=/dev/null\n`;
  for (const file of ['.profile', '.bashrc', '.bash_profile']) {
    fs.writeFileSync(path.join(person.home, file), profile);
  }
  const env = {
    ...person.env(),
    PATH: [...pathDirs, process.env.PATH].join(':'),
    TMPDIR: tmp,
    HISTFILE: '/dev/null',
    SHELL: '/bin/bash',
  };
  const install = spawnSync(
    'node',
    [
      CODE_SERVER,
      '--extensions-dir',
      extensions,
      '--user-data-dir',
      userData,
      '--install-extension',
      VSIX,
    ],
    { env, encoding: 'utf8' },
  );
  if (install.status !== 0) throw new Error(`install failed: ${install.stderr}`);
  const port = await freePort();
  const child = spawn(
    'node',
    [
      CODE_SERVER,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir',
      userData,
      '--extensions-dir',
      extensions,
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let log = '';
  child.stdout.on('data', (chunk) => (log += chunk.toString()));
  child.stderr.on('data', (chunk) => (log += chunk.toString()));
  await until('code-server to listen', () => log.includes('HTTP server listening'), 60_000);
  return {
    port,
    url: (folder) => `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`,
    workspaceUrl: (file) => `http://127.0.0.1:${port}/?workspace=${encodeURIComponent(file)}`,
    userData,
    tmp,
    log: () => log,
    // The whole process group: the extension host and its watches are children.
    stop: () => {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    },
  };
}

/**
 * Opens a multi-root workspace right the first time. VS Code 1.100's web workbench starts a
 * workspace on a remote from its cached copy of the `.code-workspace` file, then reads the
 * file itself; that second read (seen in the cache it writes) sometimes never reaches the
 * workspace, which stays empty — no folders in the explorer nor for extensions — until the
 * file changes. A cache already holding the file, as an earlier opening leaves it, makes both
 * reads agree. The cache is keyed by VS Code's hash of the workspace URI (`getWorkspaceId`);
 * the id is returned so a test can check that VS Code used this cache and no other.
 */
export function seedWorkspaceCache(code, file) {
  const id = vscodeHash(`vscode-remote://127.0.0.1:${code.port}${file}`).toString(16);
  const dir = path.join(workspaceCaches(code), id);
  fs.mkdirSync(dir, { recursive: true });
  const content = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(path.join(dir, 'workspace.json'), JSON.stringify({ content }));
  return id;
}

export function workspaceCaches(code) {
  return path.join(code.userData, 'User', 'caches', 'CachedConfigurations', 'workspaces');
}

/** VS Code's `hash()` of a string (src/vs/base/common/hash.ts: stringHash from 0). */
function vscodeHash(text) {
  const step = (value, hash) => ((hash << 5) - hash + value) | 0;
  let hash = step(149417, 0);
  for (let index = 0; index < text.length; index++) {
    hash = step(text.charCodeAt(index), hash);
  }
  return hash;
}

/** Every file under `dir` whose bytes contain one of `values`, minus the allowed ones. */
export function plaintextLeaks(dirs, values, allowed) {
  const leaks = [];
  const visit = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === 'node_modules') continue;
        visit(full);
      } else if (entry.isFile() && !allowed.has(full)) {
        let bytes;
        try {
          bytes = fs.readFileSync(full);
        } catch {
          continue;
        }
        for (const value of values) {
          if (bytes.includes(value)) leaks.push(`${full} holds ${value.slice(0, 4)}…`);
        }
      }
    }
  };
  dirs.forEach(visit);
  return leaks;
}

/** A directory whose `envsync` records each command line it is given (one a line, in
 * `log`), then execs the real binary: put first on PATH, it shows what the extension put on
 * a command line, where any local user could read it (`ps`, /proc). */
export function argvRecorder(root) {
  const dir = path.join(root, 'argv-bin');
  const log = path.join(root, 'argv.log');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(log, '');
  const script = `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${ENVSYNC_BIN}' "$@"\n`;
  fs.writeFileSync(path.join(dir, 'envsync'), script, { mode: 0o755 });
  return { dir, lines: () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

/** What every test leaves: no value in any file but the allowed ones (under the world's
 * root, VS Code's user data and temporary folders), none on a command line the extension
 * ran, and the user's settings as they were. */
export function assertNothingLeaked({ root, code, argv }, values, allowed) {
  const leaks = plaintextLeaks([root, code.userData, code.tmp], values, allowed);
  assert.deepEqual(leaks, [], 'plaintext written outside the linked files');
  const lines = argv.lines();
  assert.ok(lines.length > 0, 'the extension ran no envsync command through the recorder');
  for (const value of values) {
    const line = lines.find((entry) => entry.includes(value));
    assert.equal(line, undefined, `a value on a command line: ${value.slice(0, 4)}…`);
  }
  const settings = fs.readFileSync(path.join(code.userData, 'User', 'settings.json'), 'utf8');
  assert.equal(settings, USER_SETTINGS, 'user settings changed');
}

/** Runs `body`; when it fails, prints the tail of the extension hosts' logs and of the
 * extension's output channel, which say whether the extension started and what it ran. */
export async function withExtensionLogs(userData, body) {
  try {
    await body();
  } catch (error) {
    console.error(extensionLogs(userData));
    throw error;
  }
}

function extensionLogs(userData) {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (/(-envsync|remoteexthost)\.log$/.test(entry.name)) {
        found.push(full);
      }
    }
  };
  walk(path.join(userData, 'logs'));
  return found
    .map((file) => {
      const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-40);
      return `--- ${path.relative(userData, file)}\n${lines.join('\n')}`;
    })
    .join('\n');
}

export function tempRoot() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'envsync-e2e-'));
}
