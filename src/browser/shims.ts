// Node globals the shared client and recipe code uses, for the browser bundle: esbuild's
// `inject` makes every free `Buffer` and `process` in the bundled modules refer to these.
// `Buffer` is the `buffer` package, a complete port of Node's, so getData still returns a
// Buffer as CLIENT_API.md promises. `process` carries only what src/ calls.
import { Buffer } from 'buffer';

export { Buffer };

export const process = {
  nextTick(fn: (...args: unknown[]) => void, ...args: unknown[]): void {
    queueMicrotask(() => fn(...args));
  },
  emitWarning(message: string): void {
    console.warn(message);
  },
  env: {} as Record<string, string | undefined>,
};
