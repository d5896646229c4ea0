// Services: every service under /services and its instances, live through one persistent
// recursive watch on the base path (as the discovery recipe's caches do per name): a created or
// changed instance is read again, a deleted one removed; after a reconnect everything is listed
// again (the server does not replay what the session missed).
import type { Stat, WatchedEvent } from '../browser/index.js';
import { clear, errorText, flash, h, hex } from './dom.js';
import type { ConsoleState } from './state.js';

const base = '/services';

interface Row {
  path: string;
  service: string;
  id: string;
  instance: Record<string, unknown> | null; // null: not instance JSON
  stat: Stat;
}

export function servicesView(st: ConsoleState, root: HTMLElement): void {
  const rows = new Map<string, Row>();
  const changed = new Set<string>();
  const table = h('tbody');
  const note = h('p', { class: 'muted' }, 'loading…');

  const render = (): void => {
    const sorted = [...rows.values()].sort((a, b) => (a.service + '/' + a.id).localeCompare(b.service + '/' + b.id));
    clear(note, `${new Set(sorted.map((r) => r.service)).size} services, ${sorted.length} instances under ${base}`);
    clear(table, ...sorted.map((r) => rowOf(r)));
  };
  const rowOf = (r: Row): HTMLTableRowElement => {
    const i = r.instance ?? {};
    const payload = (i.payload ?? {}) as Record<string, unknown>;
    const enabled = i.enabled !== false;
    const toggle = h('button', { class: 'small write', onclick: () => void setEnabled(r, !enabled) }, enabled ? 'disable' : 'enable');
    const tr = h(
      'tr',
      { 'data-path': r.path, class: enabled ? '' : 'disabled' },
      h('td', {}, r.service),
      h('td', {}, r.id),
      h('td', {}, String(i.address ?? '?')),
      h('td', { class: 'num' }, String(i.port ?? '')),
      h('td', {}, String(i.zone ?? '')),
      h('td', { class: 'num' }, String(i.weight ?? 1)),
      h('td', {}, enabled ? 'yes' : 'no'),
      h('td', { class: 'num' }, payload.load === undefined ? '' : String(payload.load)),
      h('td', { class: 'mono' }, hex(r.stat.ephemeralOwner)),
      h('td', {}, toggle),
    );
    if (changed.delete(r.path)) flash(tr);
    return tr;
  };

  const read = async (path: string): Promise<void> => {
    const [, , service, id] = path.split('/');
    if (service === undefined || id === undefined) return;
    try {
      const { data, stat } = await st.zk.getData(path);
      let instance: Record<string, unknown> | null = null;
      try {
        instance = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      } catch {
        instance = null;
      }
      rows.set(path, { path, service, id, instance, stat });
    } catch (err) {
      if ((err as { code?: string }).code !== 'NONODE') throw err;
      rows.delete(path);
    }
    changed.add(path);
  };

  const onEvent = (ev: WatchedEvent): void => {
    const depth = ev.path.split('/').length - 1;
    if (depth !== 3) return; // instances are <base>/<name>/<id>
    if (ev.type === 'deleted') {
      rows.delete(ev.path);
      render();
    } else if (ev.type === 'created' || ev.type === 'dataChanged') {
      read(ev.path).then(render, (err) => st.say(errorText(err), true));
    }
  };

  const loadAll = async (): Promise<void> => {
    let names: string[] = [];
    try {
      names = await st.zk.getChildren(base);
    } catch (err) {
      if ((err as { code?: string }).code !== 'NONODE') throw err;
    }
    const seen = new Set<string>();
    for (const name of names) {
      let ids: string[] = [];
      try {
        ids = await st.zk.getChildren(`${base}/${name}`);
      } catch {
        continue; // gone meanwhile
      }
      await Promise.all(ids.map((id) => (seen.add(`${base}/${name}/${id}`), read(`${base}/${name}/${id}`))));
    }
    for (const p of [...rows.keys()]) if (!seen.has(p)) rows.delete(p);
    changed.clear();
    render();
  };

  const setEnabled = async (r: Row, enabled: boolean): Promise<void> => {
    try {
      const { data, stat } = await st.zk.getData(r.path);
      const inst = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      inst.enabled = enabled;
      await st.zk.setData(r.path, JSON.stringify(inst), stat.version);
      st.say(`${r.service}/${r.id} ${enabled ? 'enabled' : 'disabled'}`);
    } catch (err) {
      st.say(`${r.service}/${r.id}: ${errorText(err)}`, true);
    }
  };

  clear(
    root,
    h('h2', {}, 'Services'),
    note,
    h('table', { class: 'grid', id: 'services-table' }, h('thead', {}, h('tr', {}, ...['service', 'id', 'address', 'port', 'zone', 'weight', 'enabled', 'load', 'session', ''].map((t) => h('th', {}, t)))), table),
  );
  // The watch first, then the listing: a change between the two is read again, never missed.
  st.zk.addWatch(base, 'persistent_recursive', onEvent).then(loadAll).catch((err) => st.say(errorText(err), true));
  st.onReconnect(() => void loadAll().catch((err) => st.say(errorText(err), true)));
}
