// `zookooper ensemble`: the plan (ports, ids, the argv of every server) as pure functions, and the
// command itself as a child process with --base-port 0: it starts one server process per member,
// prints the table, reports a member that dies, and stops them all on SIGTERM (exit 0, no pid left).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tcpConnect } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { formatTable, parseEnsembleArgs, planEnsemble, serverArgv, serversSpec } from '../../src/cli/ensemble-plan.js';
import { runEnsemble } from '../../src/cli/ensemble.js';
import { fetchStat } from '../../src/cli/srvr.js';
import { parseServerArgs } from '../../src/common/config.js';
import { binPath, eventually, tempDir } from '../helpers/server.js';

describe('ensemble plan', () => {
  test('base 2181: client ports 2181.., jute ports 3181.., ZooKeeper\'s customary 2888/3888 peer and election ports, observers last', () => {
    const args = parseEnsembleArgs(['--size', '3', '--observers', '1', '--data-dir', '/d']);
    const plan = planEnsemble(args);
    assert.deepEqual(
      plan.map((s) => [s.id, s.observer, s.clientPort, s.zkPort, s.peerPort, s.electionPort, s.dataDir]),
      [
        [1, false, 2181, 3181, 2888, 3888, '/d/s1'],
        [2, false, 2182, 3182, 2889, 3889, '/d/s2'],
        [3, false, 2183, 3183, 2890, 3890, '/d/s3'],
        [4, true, 2184, 3184, 2891, 3891, '/d/s4'],
      ],
    );
    assert.equal(serversSpec(plan), '1=127.0.0.1:2888:3888;2181,2=127.0.0.1:2889:3889;2182,3=127.0.0.1:2890:3890;2183,4=127.0.0.1:2891:3891:observer;2184');
  });

  test('every server\'s argv is a valid `zookooper server` config that names it and the whole list', () => {
    const dir = tempDir();
    try {
      const args = parseEnsembleArgs(['--size', '2', '--observers', '1', '--base-port', '0', '--data-dir', dir, '--tick-ms', '100', '--', '--log-level', 'warn']);
      const plan = planEnsemble(args, Array.from({ length: 12 }, (_, i) => 5001 + i));
      for (const s of plan) {
        const argv = serverArgv(args, plan, s);
        assert.equal(argv[0], 'server');
        const c = parseServerArgs(argv.slice(1));
        assert.equal(c.serverId, s.id);
        assert.equal(c.port, s.clientPort);
        assert.equal(c.zkPort, s.zkPort, 'the jute port is asked for explicitly');
        assert.equal(c.observer, s.observer);
        assert.equal(c.servers.length, 3);
        assert.equal(c.tickMs, 100);
        assert.equal(c.logLevel, 'warn');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad flags are usage errors (exit 2), no process started', async () => {
    for (const [argv, re] of [
      [['--size', '0'], /--size: 0 is outside \[1, 32\]/],
      [['--size', 'three'], /--size needs an integer/],
      [['--base-port', '64000'], /election ports would pass 65535/],
      [['--bogus', '1'], /unknown flag --bogus/],
      [['--user', 'admin'], /--user needs NAME:PASSWORD/],
    ] as const) {
      const stderr = new PassThrough();
      let err = '';
      stderr.on('data', (b: Buffer) => (err += b.toString()));
      const code = await runEnsemble([...argv], { stdout: new PassThrough(), stderr });
      assert.equal(code, 2);
      assert.match(err, re);
    }
  });

  test('the table names the leader, else says none', () => {
    const t = formatTable([
      { id: 1, clientPort: 2181, zkPort: 3181, pid: 10, role: 'follower', epoch: 2, zxid: '0x200000001' },
      { id: 2, clientPort: 2182, zkPort: 3182, pid: 11, role: 'leader', epoch: 2, zxid: '0x200000001' },
      { id: 3, clientPort: 2183, zkPort: 3183, pid: null, role: 'exited (signal SIGKILL)', epoch: null, zxid: null },
    ]);
    assert.match(t, /^leader: server 2 \(client port 2182\)\n/);
    assert.match(t, /^server +client port +jute port +role +epoch +zxid +pid$/m);
    assert.match(t, /^2 +2182 +3182 +leader +2 +0x200000001 +11$/m);
    assert.match(t, /^3 +2183 +3183 +exited \(signal SIGKILL\) +- +- +-$/m);
    assert.match(formatTable([{ id: 1, clientPort: 1, zkPort: 2, pid: 1, role: 'looking', epoch: null, zxid: null }]), /^leader: none$/m);
  });

  test('--user NAME:PASSWORD is kept for the /stat polls (a password may hold colons)', () => {
    assert.equal(parseEnsembleArgs(['--user', 'admin:s3:cret']).user, 'admin:s3:cret');
    assert.equal(parseEnsembleArgs([]).user, null);
  });
});

interface Listed {
  id: number;
  role: string;
  clientPort: number;
  zkPort: number;
  peerPort: number;
  electionPort: number;
  pid: number;
}

/** A four-letter word on a jute port: the text the server writes before it closes. */
function fourLetter(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const s = tcpConnect({ host: '127.0.0.1', port }, () => s.write(word));
    s.on('data', (b: Buffer) => (text += b.toString()));
    s.once('error', reject);
    s.once('close', () => resolve(text));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Row {
  role: string;
  epoch: string;
}

/** The rows of the last table printed: server id -> role and epoch; and its "leader:" line. */
function lastTableRows(out: string): { leaderLine: string; rows: Map<number, Row> } | null {
  const at = out.lastIndexOf('\nserver  client port');
  if (at < 0) return null;
  const before = out.slice(0, at);
  const leaderLine = before.slice(before.lastIndexOf('\n') + 1);
  const rows = new Map<number, Row>();
  for (const line of out.slice(at + 1).split('\n').slice(1)) {
    const m = /^(\d+)\s+(\d+)\s+(\d+)\s+(.+?)\s+(\S+)\s+(\S+)\s+(\S+)$/.exec(line);
    if (!m) break;
    rows.set(Number(m[1]), { role: m[4]!, epoch: m[5]! });
  }
  return { leaderLine, rows };
}

/** The rows of the last table printed: server id -> role. */
function lastTable(out: string): Map<number, string> | null {
  const t = lastTableRows(out);
  return t === null ? null : new Map([...t.rows].map(([id, r]) => [id, r.role]));
}

/** The last table, once it shows exactly one leader and every other listed server following
 * it in the same epoch (`dead` servers excluded); null before. */
function oneLeader(out: string, servers: number[]): { leader: number; epoch: string; leaderLine: string } | null {
  const t = lastTableRows(out);
  if (t === null) return null;
  const rows = servers.map((id) => [id, t.rows.get(id)] as const);
  const leaders = rows.filter(([, r]) => r?.role === 'leader');
  if (leaders.length !== 1) return null;
  if (!rows.every(([, r]) => r?.role === 'leader' || r?.role === 'follower')) return null;
  const epochs = new Set(rows.map(([, r]) => r!.epoch));
  if (epochs.size !== 1 || epochs.has('-')) return null;
  return { leader: leaders[0]![0], epoch: [...epochs][0]!, leaderLine: t.leaderLine };
}

test('zookooper ensemble --size 3 --base-port 0: three server processes, one leader and two followers in one epoch, a new leader after SIGKILL of the leader, a clean stop on SIGTERM', async () => {
  const dataDir = tempDir('zk-ensemble-');
  const child = spawn(process.execPath, [binPath, 'ensemble', '--size', '3', '--base-port', '0', '--data-dir', dataDir, '--tick-ms', '200'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let listed: Listed[] = [];
  try {
    await eventually(() => /^Ctrl-C stops every server\.$/m.test(out), 30_000, 'the listing');
    listed = [...out.matchAll(/^ {2}server (\d+) {2}(voter|observer)\s+client (\d+) {2}jute (\d+) {2}peer (\d+) {2}election (\d+) {2}pid (\d+) {2}log .+$/gm)].map((m) => ({
      id: Number(m[1]),
      role: m[2]!,
      clientPort: Number(m[3]),
      zkPort: Number(m[4]),
      peerPort: Number(m[5]),
      electionPort: Number(m[6]),
      pid: Number(m[7]),
    }));
    assert.deepEqual(listed.map((l) => [l.id, l.role]), [[1, 'voter'], [2, 'voter'], [3, 'voter']], out);
    const ports = listed.flatMap((l) => [l.clientPort, l.zkPort, l.peerPort, l.electionPort]);
    assert.equal(new Set(ports).size, 12, 'twelve distinct ports');
    assert.ok(ports.every((p) => p > 0));
    for (const l of listed) {
      assert.ok(alive(l.pid), `server ${l.id} pid ${l.pid} runs`);
      assert.notEqual(l.pid, child.pid);
      // Each is its own `zookooper server` process with its id and the whole list.
      const cmdline = readFileSync(`/proc/${l.pid}/cmdline`, 'utf8').split('\0');
      assert.ok(cmdline.includes('server') && cmdline.includes('--servers'), cmdline.join(' '));
      assert.equal(cmdline[cmdline.indexOf('--id') + 1], String(l.id));
      assert.equal(readFileSync(join(dataDir, `s${l.id}`, 'myid'), 'utf8').trim(), String(l.id));
    }
    assert.match(out, new RegExp(`^connect string: ${listed.map((l) => `127\\.0\\.0\\.1:${l.clientPort}`).join(',')}$`, 'm'));
    assert.match(out, new RegExp(`^ZooKeeper clients \\(jute\\): ${listed.map((l) => `127\\.0\\.0\\.1:${l.zkPort}`).join(',')}$`, 'm'));

    // The table settles on one leader and two followers in one epoch, each row the role its
    // server's /stat reports, and the "leader:" line names that server.
    const first = await eventually(() => oneLeader(out, [1, 2, 3]), 60_000, `one leader and two followers in the table:\n${out}`);
    const leaderRow = listed.find((l) => l.id === first.leader)!;
    assert.equal(first.leaderLine, `leader: server ${first.leader} (client port ${leaderRow.clientPort})`);
    for (const l of listed) {
      const st = await fetchStat({ host: '127.0.0.1', port: l.clientPort });
      assert.equal(st.serverState, l.id === first.leader ? 'leader' : 'follower', `server ${l.id}'s /stat`);
      // Its jute port, the listed one, answers ZooKeeper's srvr with the same role.
      assert.match(await fourLetter(l.zkPort, 'srvr'), new RegExp(`^Mode: ${l.id === first.leader ? 'leader' : 'follower'}$`, 'm'), `server ${l.id}'s jute port`);
      assert.equal(String(st.epoch), first.epoch, `server ${l.id}'s epoch`);
    }

    // SIGKILL of the leader's PID: it is reported (not restarted), and the two others elect a
    // new leader in a later epoch, shown in the table.
    const killedAt = Date.now();
    process.kill(leaderRow.pid, 'SIGKILL');
    await eventually(() => lastTable(out)?.get(first.leader) === 'exited (signal SIGKILL)', 30_000, `the leader reported dead:\n${out}`);
    assert.equal(alive(leaderRow.pid), false);
    const rest = listed.map((l) => l.id).filter((id) => id !== first.leader);
    const next = await eventually(() => oneLeader(out, rest), 30_000, `a new leader in the table:\n${out}`);
    process.stderr.write(`# observed: the table showed a new leader ${Date.now() - killedAt} ms after the SIGKILL\n`);
    assert.notEqual(next.leader, first.leader);
    assert.ok(Number(next.epoch) > Number(first.epoch), `a new epoch: ${first.epoch} -> ${next.epoch}`);
    assert.match(out, new RegExp(`^leader: server ${next.leader} \\(client port \\d+\\)$`, 'm'));

    child.kill('SIGTERM');
    const { code, signal } = await exited;
    assert.equal(signal, null);
    assert.equal(code, 0, out);
    assert.match(out, /^SIGTERM: stopping 2 server\(s\)$/m);
    const stoppedLine = /^stopped: (.*)$/m.exec(out)?.[1] ?? '';
    for (const l of listed) {
      assert.match(stoppedLine, new RegExp(`server ${l.id} exited \\(${l.id === first.leader ? 'signal SIGKILL' : 'code 0'}\\)`), out);
    }
    await eventually(() => listed.every((l) => !alive(l.pid)), 10_000, 'no server process left');
    assert.ok(existsSync(join(dataDir, 's1', 'zookooper.log')), 'each server logs to its data dir');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const l of listed) if (alive(l.pid)) process.kill(l.pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('zookooper ensemble with --admin-users for its servers: the table says /stat needs --user, shows the role with the right --user, and says a wrong one is refused', async () => {
  const dir = tempDir('zk-ensemble-admin-');
  const users = join(dir, 'admins');
  writeFileSync(users, `admin:${createHash('sha1').update('admin:s3cret').digest('base64')}\n`);
  try {
    for (const [i, [userArgs, role, note]] of ([
      [[], /^needs --user \(\/stat 401\)$/, /^these servers have --admin-users: \/stat answers only an admin user; start zookooper ensemble with --user NAME:PASSWORD/m],
      [['--user', 'admin:s3cret'], /^standalone$/, null],
      [['--user', 'admin:wrong'], /^--user refused \(\/stat 401\)$/, /^the --user given is not one of these servers' --admin-users/m],
    ] as const).entries()) {
      const argv = [binPath, 'ensemble', '--size', '1', '--base-port', '0', '--data-dir', join(dir, `run${i}`), '--tick-ms', '200', ...userArgs, '--', '--admin-users', users];
      const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      try {
        await eventually(() => role.test(lastTable(out)?.get(1) ?? ''), 30_000, `server 1's role ${role} in the table:\n${out}`);
        const table = out.slice(out.lastIndexOf('\nserver  client port'));
        if (note === null) assert.doesNotMatch(table, /\/stat 401|--admin-users/, table);
        else assert.match(table, note, table);
        child.kill('SIGTERM');
        assert.equal(await exited, 0, out);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        // A failed run leaves its server running without the ensemble process: stop it by PID.
        for (const m of out.matchAll(/^ {2}server \d+ .* pid (\d+) {2}log /gm)) if (alive(Number(m[1]))) process.kill(Number(m[1]), 'SIGKILL');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
