// A binary min-heap of timed events; ties run in insertion order (seq), so a run is deterministic.
interface Ev {
  at: number;
  seq: number;
  fn: () => void;
}

export class Heap {
  private a: Ev[] = [];
  private seq = 0;

  push(at: number, fn: () => void): void {
    const a = this.a;
    const e = { at, seq: this.seq++, fn };
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(e, a[p]!)) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = e;
  }

  peekAt(): number | null {
    return this.a.length === 0 ? null : this.a[0]!.at;
  }

  pop(): Ev | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && less(a[r]!, a[l]!) ? r : l;
      if (!less(a[c]!, last)) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

function less(x: Ev, y: Ev): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}
