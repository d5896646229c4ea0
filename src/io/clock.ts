// Time as the cores are given it. Two clocks because they answer different questions:
// wall time is what a znode's ctime/mtime record (it may jump when NTP steps the clock), while
// expiry and timeouts need a clock that never goes backwards. The simulator drives both from
// its seed.

export interface Clock {
  /** Milliseconds since the Unix epoch (ctime, mtime, snapshot headers). May jump. */
  wallMs(): number;
  /** Milliseconds from an arbitrary origin; never decreases (expiry, timeouts, metrics). */
  monotonicMs(): number;
}
