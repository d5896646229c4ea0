// Tree: browse lazily (children are read when a node is opened and shown a page at a time, so a
// node with a million children costs one getChildren and one page of DOM), view data as text,
// JSON or hex with its Stat and ACL, create, edit with the version that was read (a change made
// meanwhile is answered BADVERSION and shown, never overwritten), delete (recursive after a
// confirmation). The selected node is watched: a change on the server is announced, not
// silently loaded over the user's edit.
import type { Stat } from '../browser/index.js';
import { clear, errorText, h, hex } from './dom.js';
import type { ConsoleState } from './state.js';

const pageSize = 100;
type ViewMode = 'text' | 'json' | 'hex';

function join(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

function hexDump(b: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < b.length && i < 64 * 1024; i += 16) {
    const row = b.subarray(i, i + 16);
    const hx = Array.from(row, (x) => x.toString(16).padStart(2, '0')).join(' ');
    const asc = Array.from(row, (x) => (x >= 32 && x < 127 ? String.fromCharCode(x) : '.')).join('');
    lines.push(`${i.toString(16).padStart(8, '0')}  ${hx.padEnd(47)}  ${asc}`);
  }
  return lines.join('\n');
}

export function treeView(st: ConsoleState, root: HTMLElement): void {
  const list = h('ul', { class: 'tree', id: 'tree-list' });
  const detail = h('section', { class: 'detail', id: 'node-detail' });
  let selected = '/';
  let mode: ViewMode = 'text';

  const open = async (path: string, li: HTMLLIElement, page = 0): Promise<void> => {
    let children: string[];
    let stat: Stat;
    try {
      // A child watch keeps an open node's listing live; it re-reads only while still shown.
      const watch = (): void => {
        if (li.isConnected && li.classList.contains('open')) void open(path, li, page);
      };
      ({ children, stat } = await st.zk.getChildrenWithStat(path, { watch }));
    } catch (err) {
      // An open node that was deleted (from here or elsewhere): its watch re-read it and found
      // nothing. That is no error; the node leaves the tree (its parent's listing re-reads too).
      if ((err as { code?: string }).code === 'NONODE' && path !== '/') return void li.remove();
      return st.say(`${path}: ${errorText(err)}`, true);
    }
    children.sort();
    li.querySelector(':scope > ul')?.remove();
    const ul = h('ul');
    for (const name of children.slice(page * pageSize, (page + 1) * pageSize)) ul.append(item(join(path, name), name));
    const pages = Math.ceil(children.length / pageSize);
    if (pages > 1) {
      ul.append(
        h('li', { class: 'pager' },
          h('button', { class: 'small', disabled: page === 0, onclick: () => void open(path, li, page - 1) }, '‹ prev'),
          ` ${page * pageSize + 1}–${Math.min(children.length, (page + 1) * pageSize)} of ${stat.numChildren} `,
          h('button', { class: 'small', disabled: page + 1 >= pages, onclick: () => void open(path, li, page + 1) }, 'next ›')),
      );
    }
    li.append(ul);
    li.classList.add('open');
  };

  const item = (path: string, name: string): HTMLLIElement => {
    const li = h('li', { 'data-path': path });
    const toggle = h('button', { class: 'twisty', 'aria-label': `expand ${path}`, onclick: () => {
      if (li.classList.contains('open')) {
        li.classList.remove('open');
        li.querySelector(':scope > ul')?.remove();
      } else void open(path, li);
    } }, '▸');
    const label = h('button', { class: 'node', onclick: () => void select(path) }, name);
    li.append(toggle, label);
    return li;
  };

  const select = async (path: string): Promise<void> => {
    selected = path;
    let data: Uint8Array;
    let stat: Stat;
    let acl: { perms: number; scheme: string; id: string }[];
    const watcher = (): void => {
      if (selected === path) clear(notice, `changed on the server since it was read (reselect to load)`);
    };
    try {
      ({ data, stat } = await st.zk.getData(path, { watch: watcher }));
      ({ acl } = await st.zk.getACL(path));
    } catch (err) {
      return st.say(`${path}: ${errorText(err)}`, true);
    }
    const text = new TextDecoder().decode(data);
    const shown = (): string => {
      if (mode === 'hex') return hexDump(data);
      if (mode === 'json') {
        try {
          return JSON.stringify(JSON.parse(text), null, 2);
        } catch {
          return '(not JSON)\n' + text;
        }
      }
      return text;
    };
    const notice = h('p', { class: 'notice', id: 'node-notice' });
    const view = h('pre', { class: 'data', id: 'node-data' }, shown());
    const modes = h('div', { class: 'modes', role: 'group' }, ...(['text', 'json', 'hex'] as ViewMode[]).map((m) => h('button', { class: m === mode ? 'small on' : 'small', onclick: () => { mode = m; void select(path); } }, m)));
    const editor = h('textarea', { id: 'node-editor', rows: '6', 'aria-label': 'new data' });
    editor.value = text;
    const save = async (): Promise<void> => {
      try {
        const s = await st.zk.setData(path, editor.value, stat.version);
        st.say(`${path} saved, version ${s.version}`);
        void select(path);
      } catch (err) {
        st.say(`${path}: ${errorText(err)}${(err as { code?: string }).code === 'BADVERSION' ? ` (you edited version ${stat.version}; it changed meanwhile: reselect to see it)` : ''}`, true);
      }
    };
    const childName = h('input', { id: 'child-name', placeholder: 'child name', 'aria-label': 'child name' });
    const create = async (): Promise<void> => {
      try {
        const p = await st.zk.create(join(path, childName.value), '');
        st.say(`created ${p}`);
        const li = list.querySelector<HTMLLIElement>(`li[data-path="${CSS.escape(path)}"]`);
        if (li) void open(path, li);
      } catch (err) {
        st.say(`create: ${errorText(err)}`, true);
      }
    };
    const remove = async (): Promise<void> => {
      const recursive = stat.numChildren > 0;
      if (!confirm(recursive ? `Delete ${path} and everything under it?` : `Delete ${path}?`)) return;
      try {
        await deleteTree(path, recursive);
        st.say(`deleted ${path}`);
        clear(detail);
      } catch (err) {
        st.say(`delete: ${errorText(err)}`, true);
      }
    };
    const statRows = Object.entries(stat).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { class: 'mono' }, typeof v === 'bigint' ? hex(v) : k.endsWith('time') ? new Date(v as number).toISOString() : String(v))));
    clear(
      detail,
      h('h3', { class: 'mono' }, path),
      notice,
      modes,
      view,
      h('div', { class: 'write' }, editor, h('div', {},
        h('button', { id: 'node-save', onclick: () => void save() }, `save (version ${stat.version})`), ' ',
        childName, h('button', { onclick: () => void create() }, 'create child'), ' ',
        h('button', { class: 'danger', onclick: () => void remove() }, stat.numChildren > 0 ? 'delete recursively' : 'delete'))),
      h('div', { class: 'cols' },
        h('table', { class: 'kv' }, h('caption', {}, 'Stat'), ...statRows),
        h('table', { class: 'kv' }, h('caption', {}, 'ACL'), ...acl.map((a) => h('tr', {}, h('td', {}, `${a.scheme}:${a.id}`), h('td', { class: 'mono' }, perms(a.perms)))))),
    );
  };

  const deleteTree = async (path: string, recursive: boolean): Promise<void> => {
    if (recursive) for (const c of await st.zk.getChildren(path)) await deleteTree(join(path, c), true);
    await st.zk.delete(path);
  };

  const rootItem = item('/', '/');
  list.append(rootItem);
  clear(root, h('h2', {}, 'Tree'), h('div', { class: 'split' }, list, detail));
  void open('/', rootItem);
  void select('/');
  st.onReconnect(() => void select(selected));
}

function perms(p: number): string {
  return ['r', 'w', 'c', 'd', 'a'].map((c, i) => ((p >> i) & 1 ? c : '-')).join('');
}
