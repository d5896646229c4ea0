// A plain-text table of instances (for the CLI's `services` command and examples).
import { type ServiceInstance } from './instance.js';

const headers = ['name', 'id', 'address:port', 'zone', 'weight', 'load', 'enabled'] as const;

function row(i: ServiceInstance): string[] {
  const load = i.payload?.load;
  return [i.name, i.id, `${i.address}:${i.port}`, i.zone ?? '-', String(i.weight ?? 1), load === undefined ? '-' : String(load), i.enabled ? 'yes' : 'no'];
}

/** Left-aligned columns separated by two spaces; a header line, then one line per instance. */
export function formatInstancesTable(instances: readonly ServiceInstance[]): string {
  const rows: string[][] = [[...headers], ...instances.map(row)];
  const widths = headers.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n') + '\n';
}
