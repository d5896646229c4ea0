// Locks and leaders: for each recipe path the user names (kept in localStorage), who holds it —
// the participant with the lowest sequence number, as the lock and latch recipes decide — and
// who waits. Sessions: the owners of every ephemeral shown here and in Services, with their
// nodes. Each path is watched with a child watch, re-armed on every change.
import { clear, errorText, h, hex } from './dom.js';
import type { ConsoleState } from './state.js';

const storeKey = 'zookooper.console.recipePaths';

interface Holder {
  node: string;
  id: string;
  owner: bigint;
}

function seq(name: string): number {
  const m = /(\d{10})$/.exec(name);
  return m ? Number(m[1]) : -1;
}

export function locksView(st: ConsoleState, root: HTMLElement): void {
  const paths = new Set<string>(JSON.parse(localStorage.getItem(storeKey) ?? '[]') as string[]);
  const state = new Map<string, Holder[]>();
  const body = h('div', { id: 'locks-list' });
  const sessions = h('div', { id: 'sessions-list' });

  const render = (): void => {
    clear(body, ...[...paths].sort().map((p) => {
      const hs = state.get(p) ?? [];
      return h('div', { class: 'card' },
        h('h3', { class: 'mono' }, p, ' ', h('button', { class: 'small', onclick: () => { paths.delete(p); save(); render(); } }, 'forget')),
        hs.length === 0 ? h('p', { class: 'muted' }, 'free (no participants)') :
          h('ol', {}, ...hs.map((x, i) => h('li', { class: i === 0 ? 'holder' : '' }, i === 0 ? 'holds: ' : 'waits: ', h('b', {}, x.id || '(no id)'), ` session ${hex(x.owner)} `, h('span', { class: 'muted mono' }, x.node)))));
    }));
    const bySession = new Map<bigint, string[]>();
    for (const hs of state.values()) for (const x of hs) if (x.owner !== 0n) bySession.set(x.owner, [...(bySession.get(x.owner) ?? []), x.node]);
    clear(sessions, bySession.size === 0 ? h('p', { class: 'muted' }, 'no ephemerals under the watched paths') :
      h('table', { class: 'grid' }, h('tr', {}, h('th', {}, 'session'), h('th', {}, 'ephemerals')),
        ...[...bySession].map(([s, ns]) => h('tr', {}, h('td', { class: 'mono' }, hex(s)), h('td', { class: 'mono' }, ns.join('\n'))))));
  };

  const load = async (path: string): Promise<void> => {
    if (!paths.has(path)) return;
    try {
      const children = await st.zk.getChildren(path, { watch: () => void load(path) });
      const out: Holder[] = [];
      for (const name of children.filter((c) => seq(c) >= 0).sort((a, b) => seq(a) - seq(b))) {
        try {
          const { data, stat } = await st.zk.getData(`${path}/${name}`);
          out.push({ node: `${path}/${name}`, id: data.toString('utf8'), owner: stat.ephemeralOwner });
        } catch {
          // left meanwhile; the child watch brings the next state
        }
      }
      state.set(path, out);
    } catch (err) {
      if ((err as { code?: string }).code === 'NONODE') {
        state.set(path, []);
        await st.zk.exists(path, { watch: () => void load(path) }); // appears later
      } else st.say(`${path}: ${errorText(err)}`, true);
    }
    render();
  };
  const save = (): void => localStorage.setItem(storeKey, JSON.stringify([...paths]));

  const input = h('input', { id: 'recipe-path', placeholder: '/locks/orders', 'aria-label': 'lock or leader path' });
  const form = h('form', { onsubmit: (ev: Event) => {
    ev.preventDefault();
    const p = input.value.trim();
    if (!p.startsWith('/')) return st.say('a recipe path is absolute, e.g. /locks/orders', true);
    paths.add(p);
    save();
    input.value = '';
    void load(p);
  } }, input, h('button', {}, 'watch path'));
  clear(root, h('h2', {}, 'Locks and leaders'), form, body, h('h2', {}, 'Sessions and their ephemerals'), sessions);
  for (const p of paths) void load(p);
  render();
  st.onReconnect(() => { for (const p of paths) void load(p); });
}
