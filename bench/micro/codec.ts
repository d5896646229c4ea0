// Protocol codec (src/protocol): encode and decode of each message type the hot paths use.
import type * as Protocol from '../../src/protocol/index.js';
import type { Stat } from '../../src/common/types.js';
import { importBuilt, runBench, skipped, type MicroOptions, type MicroRow } from './common.js';

export async function codecMicro(o: MicroOptions): Promise<MicroRow[]> {
  const p = await importBuilt<typeof Protocol>('src/protocol/index.js');
  if (p === null) return skipped('codec', 'module missing (src/protocol)');
  const { Opcode } = p;
  const kib = new Uint8Array(1024).fill(120);
  const stat: Stat = {
    czxid: 0x1_0000_0001n,
    mzxid: 0x1_0000_0a00n,
    pzxid: 0x1_0000_0001n,
    ctime: 1_700_000_000_000,
    mtime: 1_700_000_000_123,
    version: 42,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    dataLength: 1024,
    numChildren: 0,
  };
  const path = '/bench/n-17';
  const acl = [{ perms: 31, scheme: 'world', id: 'anyone' }];

  const getReq = p.encodeRequest({ opcode: Opcode.getData, xid: 7, path, watch: false });
  const setReq = p.encodeRequest({ opcode: Opcode.setData, xid: 7, path, data: kib, version: -1 });
  const createReq = p.encodeRequest({ opcode: Opcode.create, xid: 7, path: '/bench/e-0-0-0', data: kib, acl, mode: 'ephemeral', ttlMs: 0 });
  const getResp = p.encodeResponse(7, 0x1_0000_0a00n, p.payloads.getData(kib, stat));
  const setResp = p.encodeResponse(7, 0x1_0000_0a00n, p.payloads.stat(stat));
  const watchEv = p.encodeWatchEvent(0x1_0000_0a00n, 'dataChanged', path);

  return await runBench('codec', o, (b) => {
    b.add('encode getData request', () => void p.encodeRequest({ opcode: Opcode.getData, xid: 7, path, watch: false }));
    b.add('decode getData request (server)', () => void p.decodeClientFrame(getReq));
    b.add('encode setData 1 KiB request', () => void p.encodeRequest({ opcode: Opcode.setData, xid: 7, path, data: kib, version: -1 }));
    b.add('decode setData 1 KiB request (server)', () => void p.decodeClientFrame(setReq));
    b.add('decode create 1 KiB request (server)', () => void p.decodeClientFrame(createReq));
    b.add('encode getData 1 KiB response', () => void p.encodeResponse(7, 0x1_0000_0a00n, p.payloads.getData(kib, stat)));
    b.add('decode getData 1 KiB response (client)', () => void p.decodeServerFrame(getResp));
    b.add('encode setData response (stat)', () => void p.encodeResponse(7, 0x1_0000_0a00n, p.payloads.stat(stat)));
    b.add('decode setData response (client)', () => void p.decodeServerFrame(setResp));
    b.add('encode watch event', () => void p.encodeWatchEvent(0x1_0000_0a00n, 'dataChanged', path));
    b.add('decode watch event (client)', () => void p.decodeServerFrame(watchEv));
  });
}
