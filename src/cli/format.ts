// zkCli-style text output.
import type { Stat } from '../common/types.js';
import { ZookooperError } from '../common/errors.js';

const hex = (v: bigint): string => '0x' + v.toString(16);
const time = (ms: number): string => new Date(ms).toUTCString();

export function formatStat(s: Stat): string {
  return [
    `cZxid = ${hex(s.czxid)}`,
    `ctime = ${time(s.ctime)}`,
    `mZxid = ${hex(s.mzxid)}`,
    `mtime = ${time(s.mtime)}`,
    `pZxid = ${hex(s.pzxid)}`,
    `cversion = ${s.cversion}`,
    `dataVersion = ${s.version}`,
    `aclVersion = ${s.aversion}`,
    `ephemeralOwner = ${hex(s.ephemeralOwner)}`,
    `dataLength = ${s.dataLength}`,
    `numChildren = ${s.numChildren}`,
  ].join('\n');
}

/** "Error: NONODE: /path" for a ZookooperError; the message for anything else. */
export function formatError(err: unknown): string {
  if (err instanceof ZookooperError) {
    const msg = err.message.startsWith(err.code) ? err.message : `${err.code}: ${err.message}`;
    return `Error: ${msg}`;
  }
  return `Error: ${err instanceof Error ? err.message : String(err)}`;
}

/** Split a command line into words; single or double quotes group, backslash escapes. */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== null) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote !== null) throw new Error('unclosed quote');
  if (inWord) out.push(cur);
  return out;
}
