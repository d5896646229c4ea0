// Kill -9 a real process that is appending, then recover: every zxid the child printed after a
// sync() resolved must be there, in order, byte for byte; the log must be well formed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeZxid } from '../../src/common/zxid.js';
import { payloadFor, prng, recoverAll, seedFromEnv, tempDir } from './helpers.js';

const childPath = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const rounds = 8;
const roundDeadlineMs = 10_000;

interface RoundResult {
  acked: bigint[];
  signal: NodeJS.Signals | null;
}

/** Runs the child until it has acked `target` batches, plus a random number of event-loop turns. */
function runChild(dir: string, seed: number, target: number, extraTurns: number): Promise<RoundResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childPath, dir, String(16 * 1024), String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: bigint[] = [];
    let stderr = '';
    let partial = '';
    let killing = false;
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child acked ${acked.length}/${target} before the ${roundDeadlineMs} ms deadline; stderr: ${stderr}`));
    }, roundDeadlineMs);
    const kill = (turns: number): void => {
      if (turns > 0) setImmediate(() => kill(turns - 1));
      else child.kill('SIGKILL');
    };
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const l of lines) acked.push(BigInt(l));
      if (!killing && acked.length >= target) {
        killing = true;
        kill(extraTurns);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      if (signal !== 'SIGKILL') reject(new Error(`child exited by itself (code ${code}): ${stderr}`));
      else resolve({ acked, signal });
    });
  });
}

test('kill -9 during appends loses nothing acknowledged', async (t) => {
  const seed = seedFromEnv();
  t.diagnostic(`replay with ZK_SEED=${seed}`);
  const rnd = prng(seed);
  const dir = await tempDir(t);
  let maxAcked = 0n;
  let torn = 0;
  for (let round = 0; round < rounds; round++) {
    const target = 1 + Math.floor(rnd() * 60);
    const { acked } = await runChild(dir, Math.floor(rnd() * 2 ** 31), target, Math.floor(rnd() * 20));
    assert.ok(acked.length >= target, `round ${round}: child acked ${acked.length}`);
    for (let i = 1; i < acked.length; i++) assert.ok(acked[i]! > acked[i - 1]!, 'acks increase');
    assert.ok(acked[0]! > maxAcked, 'a new round continues after the previous acks');
    maxAcked = acked.at(-1)!;

    const back = await recoverAll(dir);
    torn += back.warnings.filter((w) => w.kind === 'tornTail').length;
    const got = back.records;
    assert.ok(got.length > 0);
    assert.equal(got[0]!.zxid, makeZxid(1, 1), 'the log starts at the first zxid');
    for (let i = 0; i < got.length; i++) {
      assert.equal(got[i]!.zxid, makeZxid(1, 1 + i), `round ${round}: record ${i} in order without gaps`);
    }
    const last = got.at(-1)!.zxid;
    assert.ok(last >= maxAcked, `round ${round}: last recovered ${last} covers acked ${maxAcked}`);
    for (const r of got) assert.deepEqual(r.bytes, payloadFor(r.zxid), `payload of ${r.zxid}`);
    for (const w of back.warnings) assert.ok(w.kind === 'tornTail' || w.kind === 'tempFileRemoved' || w.kind === 'emptySegmentRemoved', w.kind);
  }
  t.diagnostic(`${rounds} rounds, ${maxAcked & 0xffffffffn} zxids acked, ${torn} torn tails cut`);
});
