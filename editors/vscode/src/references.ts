// Where each variable is read across the workspace's code: the index behind find references
// (from a use in code, or from a key in a linked file) and the "defined but not used"
// diagnostic. It reads the code files once, then follows edits, saves, creations and
// deletions; values never enter it (only names and positions).

import * as fs from 'node:fs';
import * as vscode from 'vscode';

import { CODE_GLOB, findUses, NOT_CODE_GLOB, type Use } from './usage';

/** Beyond these, a workspace is indexed partly: references may be incomplete. */
const MAX_FILES = 5_000;
const MAX_FILE_BYTES = 1_000_000;
/** Files read at once during the first scan (the extension host stays responsive). */
const BATCH = 64;

export class UsageIndex implements vscode.Disposable {
  private readonly byFile = new Map<string, Use[]>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the set of uses changed (diagnostics are recomputed). */
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private scanned: Promise<void> | undefined;

  constructor() {
    const watcher = vscode.workspace.createFileSystemWatcher(CODE_GLOB);
    this.subscriptions.push(
      watcher,
      this.changed,
      watcher.onDidCreate((uri) => void this.readFile(uri)),
      watcher.onDidChange((uri) => void this.readFile(uri)),
      watcher.onDidDelete((uri) => this.forget(uri)),
      vscode.workspace.onDidChangeTextDocument((event) => this.readDocument(event.document)),
    );
  }

  /** Reads every code file once; later calls wait for the same scan. */
  scan(): Promise<void> {
    this.scanned ??= this.readAll();
    return this.scanned;
  }

  private async readAll() {
    const uris = await vscode.workspace.findFiles(CODE_GLOB, NOT_CODE_GLOB, MAX_FILES);
    for (let at = 0; at < uris.length; at += BATCH) {
      const batch = uris.slice(at, at + BATCH);
      const texts = await Promise.all(batch.map((uri) => readSmall(uri.fsPath)));
      batch.forEach((uri, index) => this.store(uri, texts[index]));
    }
    this.changed.fire();
  }

  /** Every place code reads `name`; open documents as they are in the editor. */
  async locations(name: string): Promise<vscode.Location[]> {
    await this.scan();
    const found: vscode.Location[] = [];
    for (const [file, uses] of this.byFile) {
      for (const use of uses.filter((candidate) => candidate.name === name)) {
        const range = new vscode.Range(use.line, use.start, use.line, use.end);
        found.push(new vscode.Location(vscode.Uri.file(file), range));
      }
    }
    return found;
  }

  /** Every name some code reads (empty until the first scan ends). */
  usedNames(): Set<string> {
    const names = new Set<string>();
    this.byFile.forEach((uses) => uses.forEach((use) => names.add(use.name)));
    return names;
  }

  private async readFile(uri: vscode.Uri) {
    const open = vscode.workspace.textDocuments.find((doc) => doc.uri.fsPath === uri.fsPath);
    this.store(uri, open?.isDirty ? open.getText() : await readSmall(uri.fsPath));
    this.changed.fire();
  }

  private readDocument(document: vscode.TextDocument) {
    if (document.uri.scheme === 'file' && vscode.languages.match(codeSelector, document) > 0) {
      this.store(document.uri, document.getText());
      this.changed.fire();
    }
  }

  private forget(uri: vscode.Uri) {
    if (this.byFile.delete(uri.fsPath)) {
      this.changed.fire();
    }
  }

  private store(uri: vscode.Uri, text: string | undefined) {
    const uses = text === undefined ? [] : findUses(text);
    if (uses.length > 0) {
      this.byFile.set(uri.fsPath, uses);
    } else {
      this.byFile.delete(uri.fsPath);
    }
  }

  dispose() {
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }
}

const codeSelector: vscode.DocumentSelector = { scheme: 'file', pattern: CODE_GLOB };

/** A file's text, or nothing when it is unreadable or too large to be source code. */
async function readSmall(file: string): Promise<string | undefined> {
  try {
    const stat = await fs.promises.stat(file);
    return stat.size > MAX_FILE_BYTES ? undefined : await fs.promises.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}
