// Server state: role, zxid, connections, throughput and latency as small live charts.
// The one periodic read in the console, and why: these figures are not znodes, so no watch can
// announce them; the server's own /mntr page (the same figures as ZooKeeper's mntr) is read every
// few seconds. Latency is the round trip of this console's own exists('/') at each read.
import { adminJson } from './admin-fetch.js';
import { clear, errorText, h } from './dom.js';
import type { ConsoleState } from './state.js';

const periodMs = 2_000;
const points = 60;

function spark(values: number[]): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${points} 20`);
  svg.setAttribute('class', 'spark');
  const max = Math.max(1, ...values);
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', values.map((v, i) => `${i},${20 - (v / max) * 19}`).join(' '));
  svg.append(line);
  return svg;
}

export function serverView(st: ConsoleState, root: HTMLElement, mntrUrl: string): void {
  const series = { txnsPerSec: [] as number[], connections: [] as number[], znodes: [] as number[], latencyMs: [] as number[] };
  const facts = h('dl', { class: 'facts', id: 'server-facts' });
  const charts = h('div', { class: 'charts' });
  let lastTxns: number | null = null;
  const push = (k: keyof typeof series, v: number): void => {
    series[k].push(v);
    if (series[k].length > points) series[k].shift();
  };
  const tick = async (): Promise<void> => {
    try {
      const t0 = performance.now();
      await st.zk.exists('/');
      push('latencyMs', performance.now() - t0);
      const m = await adminJson<Record<string, number | string>>(st, mntrUrl);
      const txns = Number(m.zk_committed_txns ?? 0);
      push('txnsPerSec', lastTxns === null ? 0 : Math.max(0, (txns - lastTxns) / (periodMs / 1000)));
      lastTxns = txns;
      // Every worker's connections (the server gathers them); this worker's from an older server.
      push('connections', Number(m.zk_num_alive_connections ?? m.zk_num_alive_connections_this_worker ?? 0));
      push('znodes', Number(m.zk_znode_count ?? 0));
      clear(facts, ...[['role', m.zk_server_state], ['zxid', '0x' + BigInt(m.zk_last_zxid ?? 0).toString(16)], ['sessions', m.zk_sessions], ['workers', m.zk_workers]]
        .flatMap(([k, v]) => [h('dt', {}, String(k)), h('dd', { class: 'mono' }, String(v))]));
    } catch (err) {
      clear(facts, h('dd', { class: 'error' }, errorText(err)));
    }
    clear(charts, ...(Object.keys(series) as (keyof typeof series)[]).map((k) =>
      h('figure', {}, spark(series[k]), h('figcaption', {}, `${k} ${(series[k].at(-1) ?? 0).toFixed(k === 'latencyMs' ? 1 : 0)}`))));
  };
  clear(root, h('h2', {}, 'Server'), facts, charts, h('p', { class: 'muted' }, `connections: every worker's, from ${mntrUrl}; latency: this console's round trip`));
  void tick();
  setInterval(() => void tick(), periodMs);
}
