// The real clock: Date.now() for wall time, performance.now() (hrtime-based, monotonic) for
// durations.
import { performance } from 'node:perf_hooks';
import type { Clock } from '../clock.js';

export const nodeClock: Clock = {
  wallMs: () => Date.now(),
  monotonicMs: () => performance.now(),
};
