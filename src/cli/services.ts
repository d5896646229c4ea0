// `services [-b BASE] [NAME]`: the service discovery registry (src/recipes/discovery) as a table.
// Kept out of commands.ts so the zkCli commands stay one concern. A bad base or name is the
// recipes' BADARGUMENTS (exit status 1, as other ZooKeeper-side errors).
import { checkBasePath, checkName, discoveryDefaults, formatInstancesTable, queryForInstances, queryForNames, type ServiceInstance } from '../recipes/discovery/index.js';
import type { Context } from './commands.js';

export async function servicesCommand(ctx: Context, base: string | true | undefined, name: string | undefined): Promise<void> {
  const basePath = checkBasePath(typeof base === 'string' ? base : discoveryDefaults.basePath);
  const names = name !== undefined ? [checkName(name, 'service name')] : await queryForNames(ctx.zk, basePath);
  const all: ServiceInstance[] = [];
  for (const n of names) all.push(...(await queryForInstances(ctx.zk, basePath, n)));
  ctx.out.write(formatInstancesTable(all));
  if (all.length === 0) ctx.out.write(name !== undefined ? `(no instances of ${name} under ${basePath})\n` : `(no services under ${basePath})\n`);
}
