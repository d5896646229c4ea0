// Small DOM helpers: the console builds its views with these instead of a framework (README.md).
export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | ((ev: Event) => void)> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}

/** Marks a row as just changed; the CSS animation fades the highlight. */
export function flash(el: Element): void {
  el.classList.remove('changed');
  void (el as HTMLElement).offsetWidth; // restart the animation
  el.classList.add('changed');
}

export function hex(id: bigint): string {
  return '0x' + id.toString(16);
}

export function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = String(e.message ?? err);
  return e.code !== undefined && !message.startsWith(e.code) ? `${e.code}: ${message}` : message;
}
