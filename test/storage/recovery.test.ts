import assert from 'node:assert/strict';
import { open, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeZxid } from '../../src/common/zxid.js';
import { LogCorruptError } from '../../src/server/storage/index.js';
import { scanSegment } from '../../src/server/storage/logformat.js';
import { payloadFor, prng, recoverAll, records, seedFromEnv, tempDir, zxids } from './helpers.js';

const z = (n: number): bigint => makeZxid(1, n);

async function writeLog(dir: string, count: number, segmentBytes: number, batch = 7): Promise<void> {
  const { rec } = await recoverAll(dir);
  const log = await rec.openLog({ segmentBytes });
  const rs = records(z(1), count);
  for (let i = 0; i < rs.length; i += batch) {
    log.append(rs.slice(i, i + batch));
    await log.sync();
  }
  await log.close();
}

async function segments(dir: string): Promise<string[]> {
  const names = (await readdir(join(dir, 'version-2'))).filter((n) => n.startsWith('log.'));
  names.sort((a, b) => (BigInt('0x' + a.slice(4)) < BigInt('0x' + b.slice(4)) ? -1 : 1));
  return names.map((n) => join(dir, 'version-2', n));
}

/** Byte offset and size of every record of a segment file. */
async function recordSpans(path: string): Promise<{ zxid: bigint; offset: number; size: number }[]> {
  const name = path.slice(path.lastIndexOf('/') + 5);
  const scan = scanSegment(await readFile(path), BigInt('0x' + name), null);
  assert.equal(scan.end.kind, 'clean');
  return scan.records;
}

async function overwrite(path: string, offset: number, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, 'r+');
  await fh.write(bytes, 0, bytes.length, offset);
  await fh.close();
}

test('torn last record (truncated or overwritten at random points) is cut back and reported', async (t) => {
  const seed = seedFromEnv();
  const rnd = prng(seed);
  t.diagnostic(`replay with ZK_SEED=${seed}`);
  const cases: string[] = [];
  for (let i = 0; i < 12; i++) {
    const dir = await tempDir(t);
    await writeLog(dir, 40, 1 << 16);
    const [seg] = await segments(dir);
    const spans = await recordSpans(seg!);
    const last = spans.at(-1)!;
    const kind = i % 3;
    if (kind === 0) {
      // Truncation anywhere inside the last record (1 .. size-1 bytes kept).
      const keep = 1 + Math.floor(rnd() * (last.size - 1));
      const fh = await open(seg!, 'r+');
      await fh.truncate(last.offset + keep);
      await fh.close();
      cases.push(`truncate +${keep}`);
    } else if (kind === 1) {
      // Garbage over a random run of the last record (never a no-op: bytes are flipped).
      const at = Math.floor(rnd() * last.size);
      const n = 1 + Math.floor(rnd() * (last.size - at));
      const old = (await readFile(seg!)).subarray(last.offset + at, last.offset + at + n);
      await overwrite(seg!, last.offset + at, old.map((b) => b ^ (1 + Math.floor(rnd() * 255))));
      cases.push(`overwrite ${n}@+${at}`);
    } else {
      // The head never reached the disk but the payload did (pages written out of order).
      await overwrite(seg!, last.offset, new Uint8Array(8));
      cases.push('zeroed head');
    }
    const back = await recoverAll(dir);
    assert.deepEqual(zxids(back.records), zxids(records(z(1), 39)), cases.at(-1));
    const torn = back.warnings.filter((w) => w.kind === 'tornTail');
    assert.equal(torn.length, 1, cases.at(-1));
    assert.equal(torn[0]!.kind === 'tornTail' && torn[0]!.offset, last.offset);
    assert.equal(torn[0]!.kind === 'tornTail' && torn[0]!.lastGoodZxid, z(39));
    assert.equal((await stat(seg!)).size, last.offset, 'file cut back to the last good record');
    // Appending continues after the cut: the lost zxid 40 is written again (a new segment).
    const log = await back.rec.openLog({ segmentBytes: 1 << 16 });
    log.append(records(z(40), 5));
    await log.sync();
    await log.close();
    const again = await recoverAll(dir);
    assert.deepEqual(zxids(again.records), zxids(records(z(1), 44)));
    assert.deepEqual(again.warnings, []);
    assert.deepEqual(again.records[39]!.bytes, payloadFor(z(40)));
  }
  t.diagnostic(cases.join(', '));
});

test('a bad record followed by valid ones is corruption: recovery throws, nothing is cut', async (t) => {
  for (const how of ['flip payload byte', 'zero head', 'garbage length']) {
    const dir = await tempDir(t);
    await writeLog(dir, 40, 1 << 16);
    const [seg] = await segments(dir);
    const spans = await recordSpans(seg!);
    const victim = spans[20]!;
    if (how === 'flip payload byte') await overwrite(seg!, victim.offset + 17, new Uint8Array([0xff ^ (await readFile(seg!))[victim.offset + 17]!]));
    else if (how === 'zero head') await overwrite(seg!, victim.offset, new Uint8Array(8));
    else await overwrite(seg!, victim.offset, new Uint8Array([0xff, 0xff, 0xff, 0x7f]));
    const before = await readFile(seg!);
    const err = await recoverAll(dir).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof LogCorruptError, `${how}: throws LogCorruptError, got ${String(err)}`);
    assert.equal(err.offset, victim.offset, how);
    assert.deepEqual(await readFile(seg!), before, `${how}: the file is untouched`);
  }
});

test('a torn record in a segment that is not the last is an error', async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, 200, 4096);
  const segs = await segments(dir);
  assert.ok(segs.length >= 3);
  const spans = await recordSpans(segs[1]!);
  const last = spans.at(-1)!;
  await overwrite(segs[1]!, last.offset + 12, new Uint8Array([1, 2, 3]));
  await assert.rejects(recoverAll(dir), (e: unknown) => e instanceof LogCorruptError && /not the last/.test(e.message));
});

test('a missing middle segment is a gap in zxids: error', async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, 200, 4096);
  const segs = await segments(dir);
  await unlink(segs[1]!);
  await assert.rejects(recoverAll(dir), /gap in zxids/);
});

test('an empty last segment (crash right after a roll) is removed and appends continue', async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, 20, 1 << 16);
  // A fully formed, empty segment as a roll leaves it before its first record is written.
  const [seg] = await segments(dir);
  const image = await readFile(seg!);
  image.fill(0, 16);
  const emptyPath = join(dir, 'version-2', `log.${z(21).toString(16)}`);
  await writeFile(emptyPath, image);
  const back = await recoverAll(dir);
  assert.deepEqual(zxids(back.records), zxids(records(z(1), 20)));
  assert.deepEqual(back.warnings.map((w) => w.kind), ['emptySegmentRemoved']);
  const log = await back.rec.openLog({ segmentBytes: 1 << 16 });
  log.append(records(z(21), 3));
  await log.sync();
  await log.close();
  assert.deepEqual(await segments(dir), [seg]);
  assert.deepEqual(zxids((await recoverAll(dir)).records), zxids(records(z(1), 23)));
});

test('progress reports bytes read up to the total', async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, 300, 4096);
  const seen: { bytesRead: number; bytesTotal: number }[] = [];
  const { records: got } = await recoverAll(dir, { onProgress: (p) => seen.push(p) });
  assert.equal(got.length, 300);
  assert.ok(seen.length > 3);
  const total = seen.at(-1)!.bytesTotal;
  assert.equal(seen.at(-1)!.bytesRead, total);
  let sum = 0;
  for (const s of await segments(dir)) sum += (await stat(s)).size;
  assert.equal(total, sum);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.bytesRead >= seen[i - 1]!.bytesRead, 'monotonic');
});
