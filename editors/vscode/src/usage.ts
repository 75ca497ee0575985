// Where code reads environment variables, in several languages, and which of those names an
// environment defines. Pure text work (no `vscode`), shared by completion, go to definition,
// diagnostics and the hard-coded secret check.

/** A use of a variable in code: its name and where the name sits on its line. */
export interface Use {
  name: string;
  line: number;
  start: number;
  end: number;
}

/**
 * Patterns that read a variable; group 1 is the name. `process.env.X`, `process.env['X']`,
 * `import.meta.env.X`, `os.environ['X']`, `os.environ.get('X')`, `os.getenv('X')`,
 * `std::env::var("X")`, `env::var("X")`, `ENV['X']`, `ENV.fetch('X')`, `os.Getenv("X")`,
 * `System.getenv("X")`, `getenv("X")`.
 */
const USE_PATTERNS: RegExp[] = [
  /\bprocess\.env\.([A-Za-z_][A-Za-z0-9_]*)/g,
  /\bimport\.meta\.env\.([A-Za-z_][A-Za-z0-9_]*)/g,
  /\bprocess\.env\[\s*['"`]([A-Za-z_][A-Za-z0-9_]*)['"`]\s*\]/g,
  /\bos\.environ\[\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\]/g,
  /\bos\.environ\.get\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]/g,
  /\bgetenv\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]/g,
  /\benv::var(?:_os)?\(\s*"([A-Za-z_][A-Za-z0-9_]*)"/g,
  /\bENV(?:\.fetch\(|\[)\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]/g,
  /\bos\.Getenv\(\s*"([A-Za-z_][A-Za-z0-9_]*)"/g,
];

/** Line prefixes after which a variable name is being typed. */
const COMPLETION_CONTEXTS: RegExp[] = [
  /\bprocess\.env\.[A-Za-z0-9_]*$/,
  /\bimport\.meta\.env\.[A-Za-z0-9_]*$/,
  /\bprocess\.env\[\s*['"`][A-Za-z0-9_]*$/,
  /\bos\.environ\[\s*['"][A-Za-z0-9_]*$/,
  /\bos\.environ\.get\(\s*['"][A-Za-z0-9_]*$/,
  /\bgetenv\(\s*['"][A-Za-z0-9_]*$/,
  /\benv::var(?:_os)?\(\s*"[A-Za-z0-9_]*$/,
  /\bENV(?:\.fetch\(|\[)\s*['"][A-Za-z0-9_]*$/,
  /\bos\.Getenv\(\s*"[A-Za-z0-9_]*$/,
];

export const LANGUAGES = [
  'javascript',
  'javascriptreact',
  'typescript',
  'typescriptreact',
  'vue',
  'svelte',
  'python',
  'rust',
  'ruby',
  'go',
  'java',
  'php',
  'c',
  'cpp',
];

/** Every variable read in `text`. */
export function findUses(text: string): Use[] {
  const uses: Use[] = [];
  text.split(/\r?\n/).forEach((content, line) => {
    for (const pattern of USE_PATTERNS) {
      pattern.lastIndex = 0;
      for (let match = pattern.exec(content); match; match = pattern.exec(content)) {
        const start = match.index + match[0].lastIndexOf(match[1]);
        uses.push({ name: match[1], line, start, end: start + match[1].length });
      }
    }
  });
  return uses;
}

/** Whether the text before the cursor is where a variable name goes. */
export function inCompletionContext(linePrefix: string): boolean {
  return COMPLETION_CONTEXTS.some((pattern) => pattern.test(linePrefix));
}

/** The use whose name covers `character` on `line`, if any. */
export function useAt(text: string, line: number, character: number): Use | undefined {
  return findUses(text).find(
    (use) => use.line === line && use.start <= character && character <= use.end,
  );
}

export interface Definitions {
  /** Environment label (`app/staging`) → its key names. */
  byEnvironment: Map<string, Set<string>>;
}

/** Environments (labels) that lack `name`. */
export function missingIn(definitions: Definitions, name: string): string[] {
  return [...definitions.byEnvironment]
    .filter(([, keys]) => !keys.has(name))
    .map(([label]) => label);
}

/** Keys some environments define and others of the same project lack. */
export function unevenKeys(definitions: Definitions): Map<string, string[]> {
  const all = new Set<string>();
  for (const keys of definitions.byEnvironment.values()) {
    keys.forEach((key) => all.add(key));
  }
  const uneven = new Map<string, string[]>();
  for (const key of all) {
    const missing = missingIn(definitions, key);
    if (missing.length > 0) {
      uneven.set(key, missing);
    }
  }
  return uneven;
}

/** Shapes of well-known credentials: a literal like this is almost surely a secret. */
const SECRET_SHAPES: RegExp[] = [
  /^(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}$/,
  /^gh[pousr]_[A-Za-z0-9]{30,}$/,
  /^github_pat_[A-Za-z0-9_]{40,}$/,
  /^AKIA[0-9A-Z]{16}$/,
  /^xox[abpr]-[A-Za-z0-9-]{10,}$/,
  /^AIza[0-9A-Za-z_-]{35}$/,
  /^-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /^eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}$/,
];

export interface Literal {
  value: string;
  line: number;
  start: number;
  end: number;
}

/** String literals of at least 8 characters, with where their content sits. */
export function findLiterals(text: string): Literal[] {
  const literals: Literal[] = [];
  const pattern = /(['"`])((?:\\.|(?!\1).){8,}?)\1/g;
  text.split(/\r?\n/).forEach((content, line) => {
    pattern.lastIndex = 0;
    for (let match = pattern.exec(content); match; match = pattern.exec(content)) {
      const start = match.index + 1;
      literals.push({ value: match[2], line, start, end: start + match[2].length });
    }
  });
  return literals;
}

/** Why a literal looks hard-coded: it equals a linked value (named), or has a secret's shape. */
export function secretReason(
  literal: string,
  linkedValues: ReadonlyMap<string, string>,
): { key: string | null } | null {
  for (const [key, value] of linkedValues) {
    if (value.length >= 8 && value === literal) {
      return { key };
    }
  }
  return SECRET_SHAPES.some((shape) => shape.test(literal)) ? { key: null } : null;
}

/** Code files the usage index reads (the languages above, by their usual extensions). */
export const CODE_GLOB =
  '**/*.{js,jsx,mjs,cjs,ts,tsx,mts,cts,vue,svelte,py,rs,rb,go,java,php,c,h,cc,cpp,hpp}';

/** Folders that hold dependencies or build output, never the project's own uses. */
export const NOT_CODE_GLOB =
  '**/{node_modules,.git,target,dist,build,out,vendor,.venv,venv,__pycache__,.envsync}/**';

/**
 * Which of `defined` no code reads. Nothing is reported when no use was found at all: a
 * workspace whose code the patterns cannot see (or that has none) would flag every key.
 */
export function unusedKeys(defined: Iterable<string>, used: ReadonlySet<string>): string[] {
  if (used.size === 0) {
    return [];
  }
  return [...defined].filter((key) => !used.has(key));
}
