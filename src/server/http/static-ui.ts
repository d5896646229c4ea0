// The console's static files at /ui on the client port (issue 8): dist/ui, written by
// `npm run build` (scripts/build-browser.mjs), read once when the worker starts and answered
// from memory. Only the files found there are served (no path from a request ever reaches the
// file system), and their total size is bounded (constants.uiStaticBytesMax).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants } from '../../common/constants.js';

interface StaticFile {
  type: string;
  body: Buffer;
}

const types: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
};

/** dist/ui beside this module's compiled home (dist/src/server/http/). */
export const defaultUiDir = fileURLToPath(new URL('../../../ui/', import.meta.url));

export function loadUi(dir = defaultUiDir): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return files; // not built: /ui says so
  }
  let total = 0;
  for (const name of names) {
    const ext = name.slice(name.lastIndexOf('.') + 1);
    const type = types[ext];
    if (type === undefined || !statSync(join(dir, name)).isFile()) continue;
    const body = readFileSync(join(dir, name));
    total += body.byteLength;
    if (total > constants.uiStaticBytesMax) throw new Error(`console files in ${dir} exceed ${constants.uiStaticBytesMax} bytes`);
    files.set(name, { type, body });
  }
  return files;
}

export interface UiAnswer {
  status: string;
  headers: [string, string][];
  body: Buffer | string;
}

/** The answer to GET `url` (a path starting /ui). */
export function uiAnswer(files: Map<string, StaticFile>, url: string): UiAnswer {
  if (url === '/ui') return { status: '301 Moved Permanently', headers: [['location', '/ui/']], body: '' };
  const name = url === '/ui/' ? 'index.html' : url.slice('/ui/'.length);
  const file = files.get(name);
  if (file === undefined) {
    const why = files.size === 0 ? 'the console is not built (run npm run build)' : `no such file: ${name}`;
    return { status: '404 Not Found', headers: [['content-type', 'text/plain']], body: why + '\n' };
  }
  // The page is the same build for every server; the browser may keep it only while revalidating.
  return { status: '200 OK', headers: [['content-type', file.type], ['cache-control', 'no-cache'], ['x-content-type-options', 'nosniff']], body: file.body };
}
