// Resolving a refused push key by key. The keys come from `sync --dry-run --json`; each is
// decided in a quick pick (mine / theirs / a new value); nothing is written until every
// key is decided, and cancelling any pick writes nothing at all.

export type Choice =
  | { kind: 'ours' }
  | { kind: 'theirs' }
  /** A new value; null deletes the key. */
  | { kind: 'value'; value: string | null };

export interface ConflictSides {
  ours: ReadonlyMap<string, string>;
  theirs: ReadonlyMap<string, string>;
}

/** The value each conflicting key ends with (null: deleted). */
export function decidedValues(
  choices: ReadonlyMap<string, Choice>,
  sides: ConflictSides,
): Map<string, string | null> {
  const decided = new Map<string, string | null>();
  for (const [key, choice] of choices) {
    switch (choice.kind) {
      case 'ours':
        decided.set(key, sides.ours.get(key) ?? null);
        break;
      case 'theirs':
        decided.set(key, sides.theirs.get(key) ?? null);
        break;
      case 'value':
        decided.set(key, choice.value);
        break;
    }
  }
  return decided;
}

/** How a side looks in the picker: never the value, only whether it is set. */
export function describeSide(value: string | undefined): string {
  return value === undefined ? 'deleted' : 'set';
}

/** `KEY=ours` arguments for a CLI that resolves per key (`sync --resolve`). */
export function resolveArgs(choices: ReadonlyMap<string, Choice>): {
  args: string[];
  input: string;
} {
  const args: string[] = [];
  const values: string[] = [];
  for (const [key, choice] of choices) {
    const how = choice.kind === 'value' ? 'stdin' : choice.kind;
    args.push('--resolve', `${key}=${how}`);
    if (choice.kind === 'value') {
      values.push(choice.value ?? '');
    }
  }
  return { args, input: values.length ? values.join('\n') + '\n' : '' };
}
