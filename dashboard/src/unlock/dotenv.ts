// A decrypted `.env` file read as npm dotenv reads it, which is the meaning the CLI gives a
// file too (crates/envsync-core/src/dotenv follows it). This is dotenv's own `parse`
// (MIT, motdotla/dotenv): its LINE regex and its unquoting, kept as written there.

// dotenv's LINE regex is kept byte for byte, longer than a line.
// prettier-ignore
const LINE =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/gm;

/** Each key's value, in the order keys first appear; a later line wins, as in dotenv. */
export function parseDotenv(source: string): Map<string, string> {
  const values = new Map<string, string>();
  const lines = source.replace(/\r\n?/gm, '\n');
  for (const match of lines.matchAll(LINE)) {
    const key = match[1]!;
    let value = (match[2] ?? '').trim();
    const maybeQuote = value[0];
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, '$2');
    if (maybeQuote === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
    values.set(key, value);
  }
  return values;
}
