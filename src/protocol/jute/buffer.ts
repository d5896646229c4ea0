// Jute's primitive encodings (big-endian int/long, 1-byte boolean, int32-length-prefixed buffer
// and UTF-8 string with -1 for null, int32-count-prefixed vector), read with every length checked
// against what is left of the frame: a lying length is a malformed frame, never an over-read.
import { constants } from '../../common/constants.js';

export class JuteError extends Error {
  override name = 'JuteError';
  constructor(readonly reason: string) {
    super(`jute: ${reason}`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class JuteReader {
  private at = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.byteLength - this.at;
  }

  private need(n: number, what: string): void {
    if (this.remaining < n) throw new JuteError(`truncated ${what}: needs ${n} bytes, ${this.remaining} left`);
  }

  int(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.at);
    this.at += 4;
    return v;
  }

  long(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigInt64(this.at);
    this.at += 8;
    return v;
  }

  bool(what: string): boolean {
    this.need(1, what);
    const b = this.bytes[this.at++]!;
    if (b > 1) throw new JuteError(`${what}: boolean byte ${b}`);
    return b === 1;
  }

  /** A buffer (copied: frames come from reused socket chunks). null (-1) reads as empty. */
  buffer(what: string): Uint8Array {
    const n = this.int(what);
    if (n === -1) return new Uint8Array(0);
    if (n < 0) throw new JuteError(`${what}: negative length ${n}`);
    this.need(n, what);
    const out = this.bytes.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }

  ustring(what: string): string {
    const n = this.int(what);
    if (n === -1) return '';
    if (n < 0) throw new JuteError(`${what}: negative length ${n}`);
    this.need(n, what);
    let s: string;
    try {
      s = utf8.decode(this.bytes.subarray(this.at, this.at + n));
    } catch {
      throw new JuteError(`${what}: not UTF-8`);
    }
    this.at += n;
    return s;
  }

  /** A vector; each element takes at least `minBytes`, so a huge count fails before any work. */
  vector<T>(what: string, minBytes: number, max: number, read: (r: JuteReader) => T): T[] {
    const n = this.int(what);
    if (n === -1) return [];
    if (n < 0) throw new JuteError(`${what}: negative count ${n}`);
    if (n > max) throw new JuteError(`${what}: ${n} elements, at most ${max}`);
    this.need(n * minBytes, what);
    const out: T[] = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = read(this);
    return out;
  }
}

export class JuteWriter {
  private buf: Buffer;
  private at = 4; // room for the frame's length prefix

  constructor(sizeHint = 64) {
    this.buf = Buffer.allocUnsafe(Math.max(16, sizeHint + 4));
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  int(v: number): this {
    this.room(4);
    this.buf.writeInt32BE(v | 0, this.at);
    this.at += 4;
    return this;
  }

  long(v: bigint): this {
    this.room(8);
    this.buf.writeBigInt64BE(BigInt.asIntN(64, v), this.at);
    this.at += 8;
    return this;
  }

  bool(v: boolean): this {
    this.room(1);
    this.buf[this.at++] = v ? 1 : 0;
    return this;
  }

  buffer(v: Uint8Array): this {
    this.int(v.byteLength);
    this.room(v.byteLength);
    this.buf.set(v, this.at);
    this.at += v.byteLength;
    return this;
  }

  ustring(v: string): this {
    const n = Buffer.byteLength(v, 'utf8');
    this.int(n);
    this.room(n);
    this.buf.write(v, this.at, 'utf8');
    this.at += n;
    return this;
  }

  /** Bytes already in jute form (a record written by another writer). */
  raw(v: Uint8Array): this {
    this.room(v.byteLength);
    this.buf.set(v, this.at);
    this.at += v.byteLength;
    return this;
  }

  /** What was written so far, without the length prefix. */
  body(): Buffer {
    return this.buf.subarray(4, this.at);
  }

  /** The frame: 4-byte big-endian length, then the record. */
  frame(): Buffer {
    this.buf.writeInt32BE(this.at - 4, 0);
    return this.buf.subarray(0, this.at);
  }
}

