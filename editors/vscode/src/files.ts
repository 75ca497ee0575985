// Writing the user's linked file, the one place plaintext may live: next to the target,
// mode 0600, then renamed over it, so no reader ever sees half a file.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The file's text, or '' when there is none yet. */
export function readIfPresent(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Writes next to the target with mode 0600, then renames: never a half-written file. */
export function writePrivate(file: string, text: string) {
  const name = `.${path.basename(file)}.envsync-${process.pid}`;
  const temporary = path.join(path.dirname(file), name);
  fs.writeFileSync(temporary, text, { mode: 0o600 });
  fs.renameSync(temporary, file);
}
