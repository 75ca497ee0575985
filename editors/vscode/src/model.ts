// What the view shows, as plain data: badge presentation, the status-bar summary, the
// watch restart backoff, and the per-folder state the watch events update. No `vscode`
// import here, so the unit tests run it under plain Node.

import type {
  Action,
  Badge,
  CurrentEnvironment,
  EnvironmentState,
  PendingMember,
  WatchEvent,
} from './contract';

export interface BadgePresentation {
  /** The description text, exactly as the CLI names the state. */
  label: string;
  /** A codicon id. */
  icon: string;
  /** A theme colour id for the icon, or null. */
  color: string | null;
  tooltip: string;
  action: Action | null;
}

const PRESENTATION: Record<Badge, BadgePresentation> = {
  synced: {
    label: 'synced ✓',
    icon: 'pass',
    color: 'testing.iconPassed',
    tooltip: 'The linked file is the remote head.',
    action: null,
  },
  local_changes: {
    label: 'local changes • push',
    icon: 'cloud-upload',
    color: 'charts.blue',
    tooltip: 'You edited the linked file: push to publish it.',
    action: 'push',
  },
  update_available: {
    label: 'update available • pull',
    icon: 'cloud-download',
    color: 'charts.yellow',
    tooltip: 'A teammate pushed a newer version: pull it.',
    action: 'pull',
  },
  diverged: {
    label: 'diverged ⚠ • sync',
    icon: 'warning',
    color: 'problemsWarningIcon.foreground',
    tooltip: 'You have unpushed edits and the remote moved: sync merges key by key.',
    action: 'sync',
  },
  not_linked: {
    label: 'not linked • pull',
    icon: 'circle-slash',
    color: null,
    tooltip: 'No local file yet: pull writes it.',
    action: 'pull',
  },
  no_access: {
    label: 'no access',
    icon: 'lock',
    color: 'disabledForeground',
    tooltip: 'Your role does not cover this environment.',
    action: null,
  },
};

export function presentBadge(badge: Badge): BadgePresentation {
  return PRESENTATION[badge];
}

/** The full tooltip of an environment row (never a value). */
export function rowTooltip(state: EnvironmentState): string {
  const badge = presentBadge(state.badge);
  const version = (number: number | null) => (number === null ? '-' : `v${number}`);
  if (state.fileHolds !== null) {
    return [
      `${state.project}/${state.environment} — not in use on this machine`,
      `${state.file} holds ${state.project}/${state.fileHolds} instead (envsync use).`,
      `"Use this Environment for ${state.file}" switches it back.`,
    ].join('\n');
  }
  const lines = [
    `${state.project}/${state.environment} — ${badge.label}`,
    badge.tooltip,
    `file: ${state.file}`,
    `local ${version(state.localVersion)}, remote ${version(state.remoteVersion)}`,
  ];
  if (state.author) {
    lines.push(`remote head by ${state.author}`);
  }
  return lines.join('\n');
}

/** "envsync: 1 update, 1 waiting" and friends; "envsync: synced" when nothing needs doing. */
export function summary(states: readonly EnvironmentState[], pending: number): string {
  // An environment whose file holds another one (`envsync use`) has nothing to do.
  const held = states.filter((state) => state.fileHolds === null);
  const count = (badge: Badge) => held.filter((state) => state.badge === badge).length;
  const parts: string[] = [];
  const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;
  // Not linked counts as an update only when there is something to pull.
  const pullable = held.filter((state) => state.badge === 'not_linked' && state.remoteVersion);
  const updates = count('update_available') + pullable.length;
  if (updates) {
    parts.push(plural(updates, 'update'));
  }
  if (count('local_changes')) {
    parts.push(plural(count('local_changes'), 'to push', 'to push'));
  }
  if (count('diverged')) {
    parts.push(plural(count('diverged'), 'diverged', 'diverged'));
  }
  if (pending) {
    parts.push(plural(pending, 'waiting', 'waiting'));
  }
  if (parts.length === 0) {
    return states.length ? 'envsync: synced' : 'envsync';
  }
  return `envsync: ${parts.join(', ')}`;
}

/** Delay before restart `attempt` (0-based) of a watch that died: 0.5 s doubling to 30 s. */
export function backoffMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, Math.min(attempt, 16)));
}

export type Key = string;

/**
 * An environment row and `envsync use`: `displaced` (the default environment, whose file
 * holds another one: using it again is `use --reset`), `in_use` (that other one: it can be
 * reset), `usable` (the default file could hold it) or `none` (the default environment
 * holding its own file, or one the member may not read).
 */
export type UseRole = 'displaced' | 'in_use' | 'usable' | 'none';

export function keyOf(project: string, environment: string): Key {
  return `${project}\u0000${environment}`;
}

/** What one workspace folder's watch has said so far. */
export class FolderState {
  readonly environments = new Map<Key, EnvironmentState>();
  pending: PendingMember[] = [];
  /** Per project, the environment commands without `--env` act on (from `status`). */
  current: CurrentEnvironment[] = [];
  connected: boolean | null = null;
  lastError: string | null = null;

  /** Replaces everything with a full `status --json` read. */
  replace(
    environments: readonly EnvironmentState[],
    pending: readonly PendingMember[],
    current: readonly CurrentEnvironment[] = [],
  ) {
    this.environments.clear();
    for (const state of environments) {
      this.environments.set(keyOf(state.project, state.environment), state);
    }
    this.pending = [...pending];
    this.current = [...current];
  }

  /**
   * The environments whose file holds them: all but one whose file `envsync use` pointed at
   * another environment on this machine. Masking, keys in code and the dirty checks read
   * these, so `.env` counts once, as the environment it holds.
   */
  linked(): EnvironmentState[] {
    return [...this.environments.values()].filter((state) => state.fileHolds === null);
  }

  /** What `envsync use` can do with an environment's row (see `UseRole`). */
  useRole(state: EnvironmentState): UseRole {
    if (state.fileHolds !== null) {
      return 'displaced';
    }
    const siblings = [...this.environments.values()].filter(
      (other) => other.project === state.project,
    );
    const current = this.current.find((entry) => entry.project === state.project);
    const chosen = current?.environment === state.environment;
    if (
      siblings.some((other) => other.fileHolds === state.environment) ||
      (chosen && current?.chosenBy === 'use')
    ) {
      return 'in_use';
    }
    if (state.badge === 'no_access') {
      return 'none';
    }
    const isDefault = chosen && current?.chosenBy === 'default';
    return isDefault ? 'none' : 'usable';
  }

  /** Applies one watch event; true when the tree must be redrawn. */
  apply(event: WatchEvent): boolean {
    switch (event.event) {
      case 'status': {
        const { event: _ignored, ...state } = event;
        this.environments.set(keyOf(state.project, state.environment), state);
        this.lastError = null;
        return true;
      }
      case 'pulled': {
        const key = keyOf(event.project, event.environment);
        const known = this.environments.get(key);
        this.environments.set(key, {
          project: event.project,
          environment: event.environment,
          file: event.file,
          badge: 'synced',
          localVersion: event.version,
          remoteVersion: event.version,
          action: null,
          author: event.author ?? known?.author ?? null,
          fileHolds: null,
        });
        return true;
      }
      case 'would_pull':
        return false;
      case 'error':
        this.lastError = event.message;
        return false;
      case 'connected':
        this.connected = true;
        return false;
      case 'disconnected':
        this.connected = false;
        return false;
      case 'unknown':
        return false;
    }
  }

  /** Projects in order of first appearance, each with its environments. */
  projects(): Map<string, EnvironmentState[]> {
    const grouped = new Map<string, EnvironmentState[]>();
    for (const state of this.environments.values()) {
      const list = grouped.get(state.project) ?? [];
      list.push(state);
      grouped.set(state.project, list);
    }
    return grouped;
  }
}
