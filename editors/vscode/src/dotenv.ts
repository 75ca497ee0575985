// Just enough dotenv to find where keys and values sit in a linked file (for masking,
// completion and go to definition) and to set or remove a key in memory during a conflict
// resolution. The CLI remains the one that reads and writes files for real.

export interface Entry {
  key: string;
  value: string;
  /** Zero-based line of the assignment. */
  line: number;
  /** Columns of the value on that line (after `=`, quotes included). */
  valueStart: number;
  valueEnd: number;
}

const ASSIGNMENT = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*?)\s*$/;

function unquote(raw: string): string {
  const stripped = raw.replace(/\s+#.*$/, '');
  if (raw.length >= 2 && (raw[0] === '"' || raw[0] === "'") && raw.endsWith(raw[0])) {
    const inner = raw.slice(1, -1);
    return raw[0] === '"' ? inner.replace(/\\n/g, '\n').replace(/\\"/g, '"') : inner;
  }
  return stripped;
}

/** Every `KEY=value` line, in order; comments and blank lines are skipped. */
export function parseEntries(text: string): Entry[] {
  const entries: Entry[] = [];
  text.split(/\r?\n/).forEach((content, line) => {
    if (/^\s*#/.test(content)) {
      return;
    }
    const match = ASSIGNMENT.exec(content);
    if (!match) {
      return;
    }
    const valueStart = match[1].length + match[2].length + match[3].length;
    const raw = match[4];
    entries.push({
      key: match[2],
      value: unquote(raw),
      line,
      valueStart,
      valueEnd: valueStart + raw.length,
    });
  });
  return entries;
}

export function parseVariables(text: string): Map<string, string> {
  const variables = new Map<string, string>();
  for (const entry of parseEntries(text)) {
    variables.set(entry.key, entry.value);
  }
  return variables;
}

/** A value as dotenv writes it: bare when safe, else double-quoted. */
export function formatValue(value: string): string {
  if (/^[A-Za-z0-9_./:@%+,=-]*$/.test(value)) {
    return value;
  }
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * The file with each decided key set (a string) or removed (null); keys not in the file are
 * appended. Other lines, comments and order are kept.
 */
export function applyValues(text: string, decided: ReadonlyMap<string, string | null>): string {
  const lines = text.split('\n');
  const seen = new Set<string>();
  for (const entry of parseEntries(text).reverse()) {
    if (!decided.has(entry.key)) {
      continue;
    }
    const value = decided.get(entry.key);
    const current = lines[entry.line];
    if (value === null || value === undefined || seen.has(entry.key)) {
      lines.splice(entry.line, 1);
    } else {
      lines[entry.line] = current.slice(0, entry.valueStart) + formatValue(value);
    }
    seen.add(entry.key);
  }
  const appended: string[] = [];
  for (const [key, value] of decided) {
    if (!seen.has(key) && value !== null) {
      appended.push(`${key}=${formatValue(value)}`);
    }
  }
  if (appended.length === 0) {
    return lines.join('\n');
  }
  const body = lines.join('\n');
  const separator = body === '' || body.endsWith('\n') ? '' : '\n';
  return `${body}${separator}${appended.join('\n')}\n`;
}

/** Dotenv text of variables (the remote head, rendered in memory for the diff editor). */
export function renderDotenv(variables: ReadonlyMap<string, string>, mask: boolean): string {
  const lines: string[] = [];
  for (const [key, value] of variables) {
    lines.push(`${key}=${mask ? maskValue(value) : formatValue(value)}`);
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

/** A fixed-width mask: shows neither the value nor its length. */
export function maskValue(value: string): string {
  return value === '' ? '' : '••••••••';
}
