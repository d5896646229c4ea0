// One-off reads of the registry (no watches, no cache): for tools like the CLI and for callers
// that look a service up once.
import type { ZookooperClient } from '../../client/index.js';
import { isCode } from '../util.js';
import { instancePath, parseInstance, servicePath, type ServiceInstance } from './instance.js';

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The service names under `basePath`, sorted; [] when there is no base node. */
export async function queryForNames(zk: ZookooperClient, basePath: string): Promise<string[]> {
  try {
    return (await zk.getChildren(basePath)).sort(byString);
  } catch (e) {
    if (isCode(e, 'NONODE')) return [];
    throw e;
  }
}

/** One instance, or null if absent or not an instance's JSON. */
export async function queryForInstance(zk: ZookooperClient, basePath: string, name: string, id: string): Promise<ServiceInstance | null> {
  try {
    const { data } = await zk.getData(instancePath(basePath, name, id));
    return parseInstance(data, name, id);
  } catch (e) {
    if (isCode(e, 'NONODE')) return null;
    throw e;
  }
}

/** The instances of `name`, sorted by id (reads pipelined); [] when the service does not exist. */
export async function queryForInstances(zk: ZookooperClient, basePath: string, name: string): Promise<ServiceInstance[]> {
  let ids: string[];
  try {
    ids = await zk.getChildren(servicePath(basePath, name));
  } catch (e) {
    if (isCode(e, 'NONODE')) return [];
    throw e;
  }
  const found = await Promise.all(ids.sort(byString).map((id) => queryForInstance(zk, basePath, name, id)));
  return found.filter((i): i is ServiceInstance => i !== null);
}
