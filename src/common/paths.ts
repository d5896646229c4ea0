// ZooKeeper's path rules (PathUtils.validatePath), plus zookooper's length and depth bounds.
import { constants } from './constants.js';
import { ZookooperError } from './errors.js';

/** Returns null when `path` is valid, else the reason. `sequential` allows a trailing '/' name stem. */
export function pathProblem(path: unknown, sequential = false): string | null {
  if (typeof path !== 'string') return 'path must be a string';
  if (path.length === 0) return 'path must not be empty';
  if (path.charCodeAt(0) !== 47) return 'path must start with /';
  if (Buffer.byteLength(path, 'utf8') > constants.pathBytesMax) return `path longer than ${constants.pathBytesMax} bytes`;
  if (path.length === 1) return null;
  // A sequential create may end in '/': the server appends the counter (ZooKeeper allows it).
  if (path.charCodeAt(path.length - 1) === 47 && !sequential) return 'path must not end with /';
  let depth = 0;
  let segStart = 1;
  for (let i = 1; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : 47;
    if (c === 47) {
      const seg = path.slice(segStart, i);
      if (seg.length === 0 && !(sequential && i === path.length)) return `empty segment at index ${i}`;
      if (seg === '.' || seg === '..') return `relative segment '${seg}'`;
      depth++;
      segStart = i + 1;
      continue;
    }
    if (c === 0) return `null character at index ${i}`;
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return `control character at index ${i}`;
    if ((c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) return `invalid character at index ${i}`;
  }
  if (depth > constants.pathDepthMax) return `path deeper than ${constants.pathDepthMax}`;
  return null;
}

export function validatePath(path: unknown, sequential = false): asserts path is string {
  const problem = pathProblem(path, sequential);
  if (problem !== null) throw new ZookooperError('BADARGUMENTS', `invalid path ${JSON.stringify(path)}: ${problem}`, typeof path === 'string' ? path : undefined);
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(parent: string, name: string): string {
  return parent === '/' ? '/' + name : parent + '/' + name;
}

export const reservedRoot = '/zookeeper';

export function isReserved(path: string): boolean {
  return path === reservedRoot || path.startsWith(reservedRoot + '/');
}
