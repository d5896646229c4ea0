// Timers in code shared by Node and the browser bundle: Node's timers are objects with unref(),
// a browser's are numbers (and a page has no process to keep alive).
export function unrefTimer(timer: unknown): void {
  (timer as { unref?: () => void } | null)?.unref?.();
}
