// The console at /ui: one session to the server that served the page (or ?server=host:port),
// opened with the browser build of the client; every view stays live through watches.
// Read-only until the user gives admin credentials: then the session adds them with
// addAuth('digest', 'user:password') and the write controls appear; the server's ACL and admin
// checks decide what a write may do, and their refusals (NOAUTH, BADVERSION, ...) are shown.
import { connect } from '../browser/index.js';
import { clear, errorText, h } from './dom.js';
import { locksView } from './locks.js';
import { serverView } from './server.js';
import { servicesView } from './services.js';
import { sessionsView } from './sessions.js';
import type { ConsoleState } from './state.js';
import { treeView } from './tree.js';

const params = new URLSearchParams(location.search);
const server = params.get('server') ?? location.host;
const status = document.getElementById('status')!;
const stateBadge = document.getElementById('conn-state')!;
const modeBadge = document.getElementById('mode')!;

const say = (message: string, isError = false): void => {
  clear(status, message);
  status.className = isError ? 'error' : '';
};

const tabs = ['services', 'tree', 'locks', 'server', 'sessions'] as const;
function show(tab: string): void {
  for (const t of tabs) {
    document.getElementById(`view-${t}`)!.hidden = t !== tab;
    document.getElementById(`tab-${t}`)!.setAttribute('aria-selected', String(t === tab));
  }
  history.replaceState(null, '', `#${tab}`);
}
tabs.forEach((t, i) => {
  document.getElementById(`tab-${t}`)!.addEventListener('click', () => show(t));
  document.addEventListener('keydown', (ev) => {
    const typing = ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement;
    if (!typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey && ev.key === String(i + 1)) show(t);
  });
});
// Escape leaves a text field, so the view keys work again without the mouse.
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement)) ev.target.blur();
});
show(tabs.find((t) => `#${t}` === location.hash) ?? 'services');

/** `Basic base64(utf8(user:password))`: btoa alone takes only Latin-1. */
function basicAuthorization(userPassword: string): string {
  let binary = '';
  for (const b of new TextEncoder().encode(userPassword)) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

function setReadOnly(readOnly: boolean, who = ''): void {
  document.body.classList.toggle('read-only', readOnly);
  clear(modeBadge, readOnly ? 'read-only — give admin credentials to make changes' : `admin: ${who}`);
}
setReadOnly(true);

try {
  const zk = await connect(server, { sessionTimeoutMs: 30_000 });
  const reconnectListeners: (() => void)[] = [];
  let wasDisconnected = false;
  const showState = (s: string): void => {
    clear(stateBadge, `${s} · ${server} · session 0x${zk.sessionId.toString(16)}`);
    stateBadge.className = `badge ${s}`;
  };
  showState(zk.state);
  zk.on('state', (s) => {
    showState(s);
    if (s === 'disconnected') wasDisconnected = true;
    if (s === 'connected' && wasDisconnected) {
      wasDisconnected = false;
      say('reconnected; views reloaded');
      for (const fn of reconnectListeners) fn();
    }
    if (s === 'expired') say('session expired: reload the page', true);
  });
  const st: ConsoleState = { zk, readOnly: true, adminAuthorization: null, say, onReconnect: (fn) => void reconnectListeners.push(fn) };

  document.getElementById('login')!.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const user = (document.getElementById('user') as HTMLInputElement).value;
    const pw = document.getElementById('password') as HTMLInputElement;
    if (user === '' || user.includes(':')) return say('a user name without ":" is needed', true);
    zk.addAuth('digest', `${user}:${pw.value}`).then(
      () => {
        // The password stays in the session's auth list (re-sent on reconnect) and, as the Basic
        // header of the admin pages, in this page's memory; never in storage.
        st.adminAuthorization = basicAuthorization(`${user}:${pw.value}`);
        pw.value = '';
        st.readOnly = false;
        setReadOnly(false, user);
        say(`credentials of ${user} added to this session`);
      },
      (err) => say(`addauth: ${errorText(err)}`, true),
    );
  });

  servicesView(st, document.getElementById('view-services')!);
  treeView(st, document.getElementById('view-tree')!);
  locksView(st, document.getElementById('view-locks')!);
  serverView(st, document.getElementById('view-server')!, `${location.protocol}//${server}/mntr`);
  sessionsView(st, document.getElementById('view-sessions')!, `${location.protocol}//${server}`);
  say('connected');
} catch (err) {
  say(`cannot connect to ${server}: ${errorText(err)}`, true);
  clear(document.getElementById('view-services')!, h('p', {}, 'not connected'));
}
