// Where each variable is read across the workspace's code: the index behind find references
// (from a use in code, or from a key in a linked file) and the "defined but not used"
// diagnostic. Values never enter it (only names and positions).
//
// File-system events alone do not keep it true: deleting a folder is reported as that
// folder's deletion only (no event for the code files in it, which the code-file watcher
// would not match anyway), and a file written right after its new folder can go unreported
// (the watcher watches the folder only once it has seen it). So every answer is preceded by
// a sync with the disk: the code files are listed again, files that are gone are dropped, and
// a file is read again only when its size or modification time changed. Events only make the
// diagnostics follow sooner.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

import { CODE_GLOB, findUses, NOT_CODE_GLOB, type Use } from './usage';

/** Beyond these, a workspace is indexed partly: references may be incomplete. */
const MAX_FILES = 5_000;
const MAX_FILE_BYTES = 1_000_000;
/** Files stated or read at once (the extension host stays responsive). */
const BATCH = 64;
/** Requests within this window (edits, file events) lead to one sync. */
const SYNC_DELAY_MS = 300;

interface Indexed {
  /** `size:mtime` of the file when it was read; null for an editor buffer with edits. */
  stamp: string | null;
  uses: Use[];
}

export class UsageIndex implements vscode.Disposable {
  private readonly byFile = new Map<string, Indexed>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the set of uses changed (diagnostics are recomputed). */
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private synced = false;

  constructor() {
    const code = vscode.workspace.createFileSystemWatcher(CODE_GLOB);
    // Deletions of anything: a deleted folder is one event, for the folder.
    const deletions = vscode.workspace.createFileSystemWatcher('**/*', true, true, false);
    this.subscriptions.push(
      code,
      deletions,
      this.changed,
      code.onDidCreate(() => this.syncSoon()),
      code.onDidChange(() => this.syncSoon()),
      deletions.onDidDelete((uri) => this.forgetUnder(uri.fsPath)),
      vscode.workspace.onDidChangeTextDocument((event) => this.readDocument(event.document)),
    );
  }

  /**
   * Brings the index in line with the disk (and editor buffers with unsaved edits). A call
   * made while a sync runs waits for one that starts after it, so it sees what changed.
   */
  sync(): Promise<void> {
    if (!this.running) {
      this.running = this.syncOnce().finally(() => (this.running = undefined));
      return this.running;
    }
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.sync();
    });
    return this.queued;
  }

  /**
   * A sync shortly after the last call (diagnostics ask on every edit): `onDidChange` fires
   * if it found anything new.
   */
  syncSoon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.sync(), SYNC_DELAY_MS);
  }

  private async syncOnce() {
    const uris = await vscode.workspace.findFiles(CODE_GLOB, NOT_CODE_GLOB, MAX_FILES);
    const listed = new Set(uris.map((uri) => uri.fsPath));
    let moved = false;
    for (const file of [...this.byFile.keys()]) {
      if (!listed.has(file)) {
        moved = this.byFile.delete(file) || moved;
      }
    }
    const buffers = dirtyBuffers();
    for (let at = 0; at < uris.length; at += BATCH) {
      const batch = uris.slice(at, at + BATCH).map((uri) => uri.fsPath);
      const read = await Promise.all(batch.map((file) => this.readIfChanged(file, buffers)));
      moved = read.includes(true) || moved;
    }
    const first = !this.synced;
    this.synced = true;
    if (moved || first) {
      this.changed.fire();
    }
  }

  /** Reads `file` again if it changed since it was read; true when its uses changed. */
  private async readIfChanged(file: string, buffers: Map<string, string>): Promise<boolean> {
    const buffer = buffers.get(file);
    if (buffer !== undefined) {
      return this.store(file, null, buffer);
    }
    const stat = await fs.promises.stat(file).catch(() => undefined);
    const stamp = stat ? `${stat.size}:${stat.mtimeMs}` : null;
    if (stamp !== null && this.byFile.get(file)?.stamp === stamp) {
      return false;
    }
    const text =
      stat && stat.size <= MAX_FILE_BYTES
        ? await fs.promises.readFile(file, 'utf8').catch(() => undefined)
        : undefined;
    return this.store(file, stamp, text);
  }

  /** Every place code reads `name`, as the disk and the editors hold it now. */
  async locations(name: string): Promise<vscode.Location[]> {
    await this.sync();
    const found: vscode.Location[] = [];
    for (const [file, { uses }] of this.byFile) {
      for (const use of uses.filter((candidate) => candidate.name === name)) {
        const range = new vscode.Range(use.line, use.start, use.line, use.end);
        found.push(new vscode.Location(vscode.Uri.file(file), range));
      }
    }
    return found;
  }

  /** Every name some code reads (empty until the first sync ends). */
  usedNames(): Set<string> {
    const names = new Set<string>();
    this.byFile.forEach(({ uses }) => uses.forEach((use) => names.add(use.name)));
    return names;
  }

  private readDocument(document: vscode.TextDocument) {
    if (document.uri.scheme === 'file' && vscode.languages.match(codeSelector, document) > 0) {
      if (this.store(document.uri.fsPath, null, document.getText())) {
        this.changed.fire();
      }
    }
  }

  /** A deleted file, or every file under a deleted folder. */
  private forgetUnder(deleted: string) {
    const inside = deleted.endsWith(path.sep) ? deleted : deleted + path.sep;
    let moved = false;
    for (const file of [...this.byFile.keys()]) {
      if (file === deleted || file.startsWith(inside)) {
        moved = this.byFile.delete(file) || moved;
      }
    }
    if (moved) {
      this.changed.fire();
    }
  }

  /** `stamp` null: an editor buffer, read again at the next sync. True if the uses changed. */
  private store(file: string, stamp: string | null, text: string | undefined): boolean {
    const uses = text === undefined ? [] : findUses(text);
    const before = this.byFile.get(file);
    this.byFile.set(file, { stamp, uses });
    return before === undefined || JSON.stringify(before.uses) !== JSON.stringify(uses);
  }

  dispose() {
    clearTimeout(this.timer);
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }
}

const codeSelector: vscode.DocumentSelector = { scheme: 'file', pattern: CODE_GLOB };

/** The text of every code file open with unsaved edits: what the user sees wins. */
function dirtyBuffers(): Map<string, string> {
  return new Map(
    vscode.workspace.textDocuments
      .filter((document) => document.isDirty && document.uri.scheme === 'file')
      .map((document) => [document.uri.fsPath, document.getText()]),
  );
}
