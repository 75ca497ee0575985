// Keys in code: completion of variable names (never values), go to definition from a use to
// the line defining it in each environment's file, find references (uses in code), hovers
// that mask the value, diagnostics for names an environment lacks and keys no code reads,
// and a warning (with a "Move to envsync" fix) for hard-coded secrets.

import * as path from 'node:path';
import * as vscode from 'vscode';

import type { Controller } from './controller';
import { applyValues, parseEntries } from './dotenv';
import type { Masking } from './editor';
import { readIfPresent, writePrivate } from './files';
import { UsageIndex } from './references';
import {
  type Definitions,
  findLiterals,
  findUses,
  inCompletionContext,
  LANGUAGES,
  missingIn,
  secretReason,
  unevenKeys,
  unusedKeys,
  useAt,
} from './usage';

interface LinkedFile {
  label: string;
  file: string;
  /** Key → zero-based line. */
  lines: Map<string, number>;
  /** Key → value, for the hard-coded check only; never shown. */
  values: Map<string, string>;
}

const SELECTOR = LANGUAGES.map((language) => ({ language }));
const HARD_CODED = 'envsync.hardCoded';
const UNUSED = 'envsync.unused';
export const MOVE_COMMAND = 'envsync.moveToEnv';
export const REVEAL_COMMAND = 'envsync.revealKey';

export class KeysInCode implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('envsync');
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly index = new UsageIndex();

  constructor(
    private readonly controller: Controller,
    private readonly masking: Masking,
  ) {
    this.subscriptions.push(
      this.diagnostics,
      this.index,
      this.index.onDidChange(() => this.check()),
      // Every file: a linked file can have any name; `nameAt` answers only for code and them.
      vscode.languages.registerReferenceProvider(
        { scheme: 'file' },
        { provideReferences: (document, position) => this.references(document, position) },
      ),
      vscode.languages.registerHoverProvider(SELECTOR, {
        provideHover: (document, position) => this.hover(document, position),
      }),
      vscode.commands.registerCommand(REVEAL_COMMAND, (file: string, key: string) =>
        this.reveal(file, key),
      ),
      vscode.languages.registerCompletionItemProvider(
        SELECTOR,
        { provideCompletionItems: (document, position) => this.complete(document, position) },
        '.',
        '[',
        '(',
        '"',
        "'",
      ),
      vscode.languages.registerDefinitionProvider(SELECTOR, {
        provideDefinition: (document, position) => this.define(document, position),
      }),
      vscode.languages.registerCodeActionsProvider(SELECTOR, {
        provideCodeActions: (document, _range, context) => this.fixes(document, context),
      }),
      vscode.commands.registerCommand(
        MOVE_COMMAND,
        (uri: vscode.Uri, range: vscode.Range, key: string | null) => this.move(uri, range, key),
      ),
      vscode.workspace.onDidOpenTextDocument(() => this.check()),
      vscode.workspace.onDidChangeTextDocument(() => this.check()),
      vscode.workspace.onDidCloseTextDocument((document) => this.diagnostics.delete(document.uri)),
    );
  }

  /** Every linked file with its keys: the editor buffer when it has unsaved edits, else disk. */
  linked(): LinkedFile[] {
    return this.controller.roots.flatMap((root) =>
      root.state.linked().map((env) => {
        const file = path.join(root.dir, env.file);
        const open = vscode.workspace.textDocuments.find((doc) => doc.uri.fsPath === file);
        const entries = parseEntries(open?.isDirty ? open.getText() : readIfPresent(file));
        return {
          label: `${env.project}/${env.environment}`,
          file,
          lines: new Map(entries.map((entry) => [entry.key, entry.line])),
          values: new Map(entries.map((entry) => [entry.key, entry.value])),
        };
      }),
    );
  }

  private definitions(linked: LinkedFile[]): Definitions {
    return {
      byEnvironment: new Map(linked.map((file) => [file.label, new Set(file.lines.keys())])),
    };
  }

  private complete(document: vscode.TextDocument, position: vscode.Position) {
    const prefix = document.lineAt(position.line).text.slice(0, position.character);
    if (!inCompletionContext(prefix)) {
      return undefined;
    }
    const where = new Map<string, string[]>();
    for (const file of this.linked()) {
      for (const key of file.lines.keys()) {
        where.set(key, [...(where.get(key) ?? []), file.label]);
      }
    }
    return [...where].map(([key, labels]) => {
      const item = new vscode.CompletionItem(key, vscode.CompletionItemKind.Variable);
      item.detail = `envsync: ${labels.join(', ')}`;
      item.documentation = 'Defined in these environments (values are never shown).';
      return item;
    });
  }

  /**
   * The line defining the name in the first environment that has it. One location, not one
   * per environment: with several, VS Code lists them with a preview of each line, value
   * included, in plain text, which masking cannot reach.
   */
  private define(document: vscode.TextDocument, position: vscode.Position) {
    const use = useAt(document.getText(), position.line, position.character);
    const file = use && this.linked().find((linked) => linked.lines.has(use.name));
    if (!use || !file) {
      return undefined;
    }
    const line = file.lines.get(use.name) ?? 0;
    return new vscode.Location(
      vscode.Uri.file(file.file),
      new vscode.Range(line, 0, line, use.name.length),
    );
  }

  /**
   * Uses in code only. The lines defining a key hold its value, and the references view
   * previews every line in plain text, where masking cannot reach: go to definition (which
   * opens the masked file) leads there instead.
   */
  private async references(document: vscode.TextDocument, position: vscode.Position) {
    const name = this.nameAt(document, position);
    return name === undefined ? undefined : this.index.locations(name);
  }

  /** The variable named at `position`: a use in code, or the key of a linked file's line. */
  private nameAt(document: vscode.TextDocument, position: vscode.Position): string | undefined {
    if (this.linked().some((file) => file.file === document.uri.fsPath)) {
      const entry = parseEntries(document.getText()).find((found) => found.line === position.line);
      return entry && position.character < entry.valueStart ? entry.key : undefined;
    }
    if (!LANGUAGES.includes(document.languageId)) {
      return undefined;
    }
    return useAt(document.getText(), position.line, position.character)?.name;
  }

  /** Where a variable is defined, its value masked; "Reveal" opens that line unmasked. */
  private hover(document: vscode.TextDocument, position: vscode.Position) {
    const use = useAt(document.getText(), position.line, position.character);
    const linked = this.linked();
    if (!use || linked.length === 0) {
      return undefined;
    }
    const text = new vscode.MarkdownString(`\`${use.name}\` · envsync\n\n`);
    text.isTrusted = { enabledCommands: [REVEAL_COMMAND] };
    for (const file of linked.filter((candidate) => candidate.lines.has(use.name))) {
      const args = encodeURIComponent(JSON.stringify([file.file, use.name]));
      text.appendMarkdown(
        `- ${file.label}: \`••••••••\` [Reveal](command:${REVEAL_COMMAND}?${args})\n`,
      );
    }
    const missing = missingIn(this.definitions(linked), use.name);
    if (missing.length > 0) {
      text.appendMarkdown(`\nNot defined in ${missing.join(', ')}`);
    }
    return new vscode.Hover(text, new vscode.Range(use.line, use.start, use.line, use.end));
  }

  /** Opens the linked file at the key's line, with that one value unmasked. */
  private async reveal(file: string, key: string) {
    const line = this.linked()
      .find((linked) => linked.file === file)
      ?.lines.get(key);
    if (line === undefined) {
      return;
    }
    this.masking.reveal(file, key);
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    await vscode.window.showTextDocument(document, {
      selection: new vscode.Range(line, 0, line, key.length),
    });
  }

  /** Re-checks every open document (cheap: a few regular expressions per line). */
  check() {
    const linked = this.linked();
    if (linked.length === 0) {
      this.diagnostics.clear();
      return;
    }
    this.index.syncSoon();
    const definitions = this.definitions(linked);
    const values = new Map<string, string>();
    linked.forEach((file) => file.values.forEach((value, key) => values.set(key, value)));
    for (const document of vscode.workspace.textDocuments) {
      if (document.uri.scheme !== 'file') {
        continue;
      }
      const own = linked.find((file) => file.file === document.uri.fsPath);
      if (own) {
        this.diagnostics.set(document.uri, this.envFileDiagnostics(own, definitions));
      } else if (LANGUAGES.includes(document.languageId)) {
        this.diagnostics.set(document.uri, codeDiagnostics(document, definitions, values));
      }
    }
  }

  private envFileDiagnostics(own: LinkedFile, definitions: Definitions): vscode.Diagnostic[] {
    const result: vscode.Diagnostic[] = [];
    for (const [key, missing] of unevenKeys(definitions)) {
      const line = own.lines.get(key);
      if (line === undefined) {
        continue;
      }
      const diagnostic = new vscode.Diagnostic(
        new vscode.Range(line, 0, line, key.length),
        `${key} is missing in ${missing.join(', ')}`,
        vscode.DiagnosticSeverity.Information,
      );
      diagnostic.source = 'envsync';
      result.push(diagnostic);
    }
    return [...result, ...this.unusedDiagnostics(own)];
  }

  /** Keys no code in the workspace reads (faded; off with `envsync.unusedKeyDiagnostics`). */
  private unusedDiagnostics(own: LinkedFile): vscode.Diagnostic[] {
    const config = vscode.workspace.getConfiguration('envsync');
    if (!config.get<boolean>('unusedKeyDiagnostics', true)) {
      return [];
    }
    return unusedKeys(own.lines.keys(), this.index.usedNames()).map((key) => {
      const line = own.lines.get(key) ?? 0;
      const diagnostic = new vscode.Diagnostic(
        new vscode.Range(line, 0, line, key.length),
        `${key} is defined but no code in this workspace reads it`,
        vscode.DiagnosticSeverity.Information,
      );
      diagnostic.source = 'envsync';
      diagnostic.code = UNUSED;
      diagnostic.tags = [vscode.DiagnosticTag.Unnecessary];
      return diagnostic;
    });
  }

  private fixes(document: vscode.TextDocument, context: vscode.CodeActionContext) {
    return context.diagnostics
      .filter((diagnostic) => diagnostic.code === HARD_CODED)
      .map((diagnostic) => {
        const key = /`([A-Za-z_][A-Za-z0-9_]*)`/.exec(diagnostic.message)?.[1];
        const action = new vscode.CodeAction('Move to envsync', vscode.CodeActionKind.QuickFix);
        action.diagnostics = [diagnostic];
        action.command = {
          command: MOVE_COMMAND,
          title: 'Move to envsync',
          arguments: [document.uri, diagnostic.range, key ?? null],
        };
        return action;
      });
  }

  /**
   * Replaces a hard-coded literal with a reference to `key`; a literal that is not a linked
   * value yet is first added, under a name the user gives, to the linked file of the
   * environment the user picks. The value passes through memory only.
   */
  async move(uri: vscode.Uri, range: vscode.Range, key: string | null) {
    const document = await vscode.workspace.openTextDocument(uri);
    let name = key;
    if (name === null) {
      const target = await vscode.window.showQuickPick(
        this.linked().map((file) => ({ label: file.label, file })),
        { placeHolder: 'Add the value to which environment?' },
      );
      name =
        (target &&
          (await vscode.window.showInputBox({
            title: 'Variable name',
            validateInput: (value) =>
              /^[A-Za-z_][A-Za-z0-9_]*$/.test(value) ? null : 'Letters, digits and _',
          }))) ||
        null;
      if (!target || name === null) {
        return;
      }
      const current = readIfPresent(target.file.file);
      const value = document.getText(range);
      writePrivate(target.file.file, applyValues(current, new Map([[name, value]])));
    }
    const edit = new vscode.WorkspaceEdit();
    const quoted = range.with(range.start.translate(0, -1), range.end.translate(0, 1));
    edit.replace(uri, quoted, reference(document.languageId, name));
    await vscode.workspace.applyEdit(edit);
    this.check();
  }

  dispose() {
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }
}

function codeDiagnostics(
  document: vscode.TextDocument,
  definitions: Definitions,
  values: Map<string, string>,
): vscode.Diagnostic[] {
  const text = document.getText();
  const result: vscode.Diagnostic[] = [];
  for (const use of findUses(text)) {
    const missing = missingIn(definitions, use.name);
    if (missing.length === 0) {
      continue;
    }
    const diagnostic = new vscode.Diagnostic(
      new vscode.Range(use.line, use.start, use.line, use.end),
      `${use.name} is not defined in ${missing.join(', ')}`,
      vscode.DiagnosticSeverity.Warning,
    );
    diagnostic.source = 'envsync';
    result.push(diagnostic);
  }
  for (const literal of findLiterals(text)) {
    const reason = secretReason(literal.value, values);
    if (!reason) {
      continue;
    }
    const diagnostic = new vscode.Diagnostic(
      new vscode.Range(literal.line, literal.start, literal.line, literal.end),
      reason.key
        ? `Hard-coded secret: this is the value of \`${reason.key}\` in a linked file`
        : 'Hard-coded secret: this looks like a credential',
      vscode.DiagnosticSeverity.Warning,
    );
    diagnostic.source = 'envsync';
    diagnostic.code = HARD_CODED;
    result.push(diagnostic);
  }
  return result;
}

/** How code in `language` reads variable `key`. */
export function reference(language: string, key: string): string {
  switch (language) {
    case 'python':
      return `os.environ["${key}"]`;
    case 'rust':
      return `std::env::var("${key}").unwrap_or_default()`;
    case 'ruby':
      return `ENV["${key}"]`;
    case 'go':
      return `os.Getenv("${key}")`;
    case 'java':
      return `System.getenv("${key}")`;
    case 'php':
      return `getenv("${key}")`;
    default:
      return `process.env.${key}`;
  }
}
