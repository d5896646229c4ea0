// A stand-in server process for testing the harness itself while the real ensemble is being
// built: it takes the same flags as `zookooper server`, listens on its peer port, sends a hello
// line to every other server over its own outbound connection (through the fault proxies, as
// the real one), and answers GET /stat with the peers it heard from lately and a role: leader if
// its id is the lowest among itself and those peers, else follower. Exits on SIGTERM.
import { createServer as httpServer } from 'node:http';
import { createServer, connect, type Socket } from 'node:net';

const flags = new Map<string, string>();
const argv = process.argv.slice(3); // after 'server'
for (let i = 0; i < argv.length; i += 2) flags.set(argv[i]!, argv[i + 1]!);
const id = Number(flags.get('--id'));
const peers = (flags.get('--servers') ?? '').split(',').map((e) => {
  const m = /^(\d+)=([^:]+):(\d+):(\d+)$/.exec(e)!;
  return { id: Number(m[1]), host: m[2]!, peerPort: Number(m[3]) };
});
const heardWithinMs = 400;
const helloEveryMs = 100;
const lastHeard = new Map<number, number>();

const me = peers.find((p) => p.id === id)!;
createServer((s) => {
  let buf = '';
  s.on('data', (b: Buffer) => {
    buf += b.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) lastHeard.set(Number(l), Date.now());
  });
  s.on('error', () => {});
}).listen(me.peerPort, '127.0.0.1');

for (const p of peers.filter((x) => x.id !== id)) {
  let sock: Socket | null = null;
  const dial = (): void => {
    const s = connect(p.peerPort, p.host);
    s.on('error', () => {});
    s.on('close', () => {
      sock = null;
      setTimeout(dial, helloEveryMs);
    });
    s.on('connect', () => (sock = s));
  };
  dial();
  setInterval(() => sock?.write(`${id}\n`), helloEveryMs);
}

function heard(): number[] {
  const now = Date.now();
  return [...lastHeard].filter(([, t]) => now - t < heardWithinMs).map(([p]) => p).sort();
}

const http = httpServer((req, res) => {
  const h = heard();
  const serverState = Math.min(id, ...h) === id ? 'leader' : 'follower';
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ serverState, heard: h, pid: process.pid }));
});
http.listen(Number(flags.get('--port')), '127.0.0.1', () => console.log(JSON.stringify({ msg: 'serving', port: Number(flags.get('--port')) })));
process.once('SIGTERM', () => process.exit(0));
