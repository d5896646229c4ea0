// Runs the `zookooper cli` entry point in-process with captured stdout/stderr and a closed stdin.
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/zkcli.js';

export async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdin.end();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await runCli(args, { stdout, stderr, stdin });
  return { code, out, err };
}
