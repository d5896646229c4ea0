// Sessions and watches of the whole server: every session with its ephemerals and the worker
// holding its connection (/sessions), every watched path with its count and watchers (/watches).
// The server gathers both from all its session workers (a worker that did not answer in time is
// named here; a list cut at the server's bound says so). Like /mntr these are not znodes, so no
// watch announces a change: the view re-reads them every few seconds while it is shown, and on
// "refresh". Both are admin pages: with --admin-users the view asks the user to sign in.
import { adminJson } from './admin-fetch.js';
import { clear, errorText, h } from './dom.js';
import type { ConsoleState } from './state.js';

const periodMs = 2_000;

interface Head {
  missingWorkers: number[];
  truncated: boolean;
  workers: { workerId: number; answered: boolean; connections: number; watches: number }[];
}
interface SessionsPage extends Head {
  sessionCount: number;
  sessions: { sessionId: string; timeoutMs: number; workerId: number | null; remote: string | null; watches: number; ephemerals: string[] }[];
}
interface WatchesPage extends Head {
  watchCount: number;
  pathCount: number;
  paths: { path: string; count: number; watchers: { sessionId: string; workerId: number; kinds: string[] }[] }[];
}

/** What is missing from a page: the workers that did not answer, a list cut at the bound. */
function gaps(p: Head): HTMLElement | null {
  const parts: string[] = [];
  if (p.missingWorkers.length > 0) parts.push(`worker ${p.missingWorkers.join(', ')} did not answer in time: its sessions and watches are not listed`);
  if (p.truncated) parts.push('the list was cut at the server\'s bound');
  return parts.length === 0 ? null : h('p', { class: 'notice gaps' }, parts.join('; '));
}

const workerText = (id: number | null): string => (id === null ? '—' : String(id));

function sessionsTable(p: SessionsPage): HTMLElement {
  return h('table', { class: 'grid', id: 'sessions-table' },
    h('tr', {}, ...['session', 'worker', 'address', 'timeout ms', 'watches', 'ephemerals'].map((t) => h('th', {}, t))),
    ...p.sessions.map((s) => h('tr', { 'data-session': s.sessionId, 'data-worker': workerText(s.workerId) },
      h('td', { class: 'mono' }, s.sessionId),
      h('td', { class: 'num' }, workerText(s.workerId)),
      h('td', { class: 'mono' }, s.remote ?? 'not connected here'),
      h('td', { class: 'num' }, String(s.timeoutMs)),
      h('td', { class: 'num' }, String(s.watches)),
      h('td', { class: 'mono' }, s.ephemerals.join('\n')))));
}

function watchesTable(p: WatchesPage): HTMLElement {
  return h('table', { class: 'grid', id: 'watches-table' },
    h('tr', {}, ...['path', 'sessions', 'watchers (session · worker · kinds)'].map((t) => h('th', {}, t))),
    ...p.paths.map((w) => h('tr', { 'data-path': w.path },
      h('td', { class: 'mono' }, w.path),
      h('td', { class: 'num' }, String(w.count)),
      h('td', { class: 'mono' }, w.watchers.map((x) => `${x.sessionId} · worker ${x.workerId} · ${x.kinds.join('+')}`).join('\n')))));
}

export function sessionsView(st: ConsoleState, root: HTMLElement, baseUrl: string): void {
  const summary = h('p', { class: 'muted', id: 'sessions-summary' }, 'loading…');
  const sessions = h('div', { id: 'all-sessions' });
  const watches = h('div', { id: 'all-watches' });
  let busy = false;
  const load = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const [s, w] = await Promise.all([adminJson<SessionsPage>(st, `${baseUrl}/sessions`), adminJson<WatchesPage>(st, `${baseUrl}/watches`)]);
      const perWorker = s.workers.map((x) => `worker ${x.workerId}: ${x.answered ? `${x.connections} connections, ${x.watches} watches` : 'no answer'}`).join(' · ');
      clear(summary, `${s.sessionCount} sessions, ${w.pathCount} watched paths, ${w.watchCount} watches — ${perWorker}`);
      summary.className = 'muted';
      clear(sessions, gaps(s), s.sessions.length === 0 ? h('p', { class: 'muted' }, 'no sessions') : sessionsTable(s));
      clear(watches, gaps(w), w.paths.length === 0 ? h('p', { class: 'muted' }, 'no watches') : watchesTable(w));
    } catch (err) {
      clear(summary, errorText(err));
      summary.className = 'error';
    } finally {
      busy = false;
    }
  };
  const refresh = h('button', { class: 'small', id: 'sessions-refresh', onclick: () => void load() }, 'refresh');
  clear(root, h('h2', {}, 'Sessions and their ephemerals ', refresh), summary, sessions, h('h2', {}, 'Watches per path'), watches,
    h('p', { class: 'muted' }, 'every session worker of this server, gathered by the server; re-read every 2 s while shown'));
  void load();
  // Only while the view is shown: each read asks every worker of the server.
  setInterval(() => {
    if (!root.hidden) void load();
  }, periodMs);
}
