// A few DOM helpers. Text is always set as text (never parsed as HTML), so nothing the
// server returns can become markup or script.

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | boolean | EventListener | undefined>;

/** An element with attributes (`on…` become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Replaces the page's main content and moves focus there, for keyboard and screen readers. */
export function show(...children: (Child | Child[])[]): void {
  const main = document.getElementById('main');
  if (!main) return;
  main.replaceChildren(
    ...children
      .flat()
      .filter((c): c is Node | string => !!c || c === 0)
      .map((c) => (c instanceof Node ? c : String(c))),
  );
}

export function table(headers: string[], rows: Child[][], caption?: string): HTMLElement {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      {},
      caption ? h('caption', {}, caption) : null,
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((text) => h('th', { scope: 'col' }, text)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((cells) =>
          h(
            'tr',
            {},
            cells.map((cell) => h('td', {}, cell)),
          ),
        ),
      ),
    ),
  );
}

/** Unix seconds or an RFC 3339 time, in the reader's locale, with how long ago. */
export function when(time: number | string): HTMLElement {
  const date = typeof time === 'number' ? new Date(time * 1000) : new Date(time);
  const text = date.toLocaleString();
  return h('time', { datetime: date.toISOString(), title: text }, `${text} (${ago(date)})`);
}

/** How far `date` is from now, either way: "3 days ago", "in 7 days" (an expiry). */
export function ago(date: Date): string {
  const offset = Math.round((Date.now() - date.getTime()) / 1000);
  const seconds = Math.abs(offset);
  if (seconds < 60) return 'just now';
  const units: [number, string][] = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size) {
      // Past times count whole units ("1 day ago" until two); a time ahead rounds, so
      // that an expiry just under 7 days away reads "in 7 days".
      const count = offset > 0 ? Math.floor(seconds / size) : Math.round(seconds / size);
      const span = `${count} ${unit}${count === 1 ? '' : 's'}`;
      return offset > 0 ? `${span} ago` : `in ${span}`;
    }
  }
  return '';
}

/** A command to copy into a terminal. */
export function command(text: string): HTMLElement {
  return h('pre', { class: 'command' }, h('code', {}, text));
}

export function notice(text: string, kind: 'error' | 'info' = 'info'): HTMLElement {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}
