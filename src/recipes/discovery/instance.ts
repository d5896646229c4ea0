// A service instance as stored in its znode (`<base>/<name>/<id>`, data = JSON), with the checks
// that turn caller input and znode data (`unknown`) into a typed value.
import { ZookooperError } from '../../common/errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Free-form data an instance publishes; `load` is what load-aware strategies read. */
export interface ServicePayload {
  /** Current load (>= 0, any unit the service chooses: in-flight requests, CPU %, queue depth). */
  load?: number;
  [key: string]: JsonValue | undefined;
}

export interface ServiceInstance {
  name: string;
  id: string;
  address: string;
  port: number;
  sslPort?: number;
  payload?: ServicePayload;
  /** Relative capacity for weighted strategies; default 1, 0 = only when every candidate is 0. */
  weight?: number;
  zone?: string;
  /** false = temporarily down: kept registered, never picked by a provider. */
  enabled: boolean;
  /** Set by the registry when it (re-)creates the znode. */
  registeredAtMs?: number;
}

/** What register() takes: `enabled` defaults to true. */
export type ServiceInstanceInput = Omit<ServiceInstance, 'enabled' | 'registeredAtMs'> & { enabled?: boolean };

export const discoveryDefaults = {
  basePath: '/services',
  nameBytesMax: 255, // a service name or instance id is one znode name
  instanceBytesMax: 64 * 1024, // JSON of one instance: well under the znode data limit
  attemptsMax: 20, // rounds of one registration write or watch set-up (CONNECTIONLOSS retries, NODEEXISTS waits)
  retryDelayMs: 50, // pause before retrying a lost request (the client queues it until reconnect)
  pendingOpsMax: 1_000, // registry operations queued behind each other
  loadMinIntervalMs: 1_000, // at most one load setData per instance per this
  renewAttemptsMax: 30, // connection factory attempts after an expiry
  renewDelayMsMin: 100,
  renewDelayMsMax: 2_000,
} as const;

function bad(message: string, path?: string): ZookooperError {
  return new ZookooperError('BADARGUMENTS', message, path);
}

/** A service name or instance id must be a single znode name. */
export function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '' || value === '.' || value === '..') throw bad(`${what} must be a non-empty znode name, got ${JSON.stringify(value)}`);
  if (value.includes('/') || value.includes('\u0000')) throw bad(`${what} must not contain '/' or NUL: ${JSON.stringify(value)}`);
  if (Buffer.byteLength(value) > discoveryDefaults.nameBytesMax) throw bad(`${what} is longer than ${discoveryDefaults.nameBytesMax} bytes`);
  return value;
}

export function checkBasePath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || (value.length > 1 && value.endsWith('/'))) {
    throw bad(`base path must be an absolute znode path, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function servicePath(base: string, name: string): string {
  return base === '/' ? `/${name}` : `${base}/${name}`;
}

export function instancePath(base: string, name: string, id: string): string {
  return `${servicePath(base, name)}/${id}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65_535;
const isNonNegative = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Why `v` is not a valid instance (null if it is). Shared by input checks and znode parsing. */
function problem(v: Record<string, unknown>): string | null {
  if (typeof v.address !== 'string' || v.address === '') return 'address must be a non-empty string';
  if (!isPort(v.port)) return 'port must be an integer in [0, 65535]';
  if (v.sslPort !== undefined && !isPort(v.sslPort)) return 'sslPort must be an integer in [0, 65535]';
  if (v.weight !== undefined && !isNonNegative(v.weight)) return 'weight must be a finite number >= 0';
  if (v.zone !== undefined && typeof v.zone !== 'string') return 'zone must be a string';
  if (v.enabled !== undefined && typeof v.enabled !== 'boolean') return 'enabled must be a boolean';
  if (v.registeredAtMs !== undefined && !isNonNegative(v.registeredAtMs)) return 'registeredAtMs must be a number';
  if (v.payload !== undefined) {
    if (!isObject(v.payload)) return 'payload must be an object';
    if (v.payload.load !== undefined && !isNonNegative(v.payload.load)) return 'payload.load must be a finite number >= 0';
  }
  return null;
}

/** A typed copy of the fields we know, in a fixed order (so equal instances encode equally). */
function pick(v: Record<string, unknown>, name: string, id: string): ServiceInstance {
  const out: ServiceInstance = { name, id, address: v.address as string, port: v.port as number, enabled: v.enabled !== false };
  if (v.sslPort !== undefined) out.sslPort = v.sslPort as number;
  if (v.payload !== undefined) out.payload = v.payload as ServicePayload;
  if (v.weight !== undefined) out.weight = v.weight as number;
  if (v.zone !== undefined) out.zone = v.zone as string;
  if (v.registeredAtMs !== undefined) out.registeredAtMs = v.registeredAtMs as number;
  return out;
}

/** Checks caller input (BADARGUMENTS) and returns a normalized instance. */
export function checkInstance(input: ServiceInstanceInput | ServiceInstance): ServiceInstance {
  if (!isObject(input)) throw bad('a service instance must be an object');
  const name = checkName(input.name, 'service name');
  const id = checkName(input.id, 'instance id');
  const why = problem(input);
  if (why !== null) throw bad(`instance ${name}/${id}: ${why}`);
  const out = pick(input, name, id);
  if (Buffer.byteLength(encodeInstance(out)) > discoveryDefaults.instanceBytesMax) throw bad(`instance ${name}/${id} encodes to more than ${discoveryDefaults.instanceBytesMax} bytes`);
  return out;
}

export function encodeInstance(i: ServiceInstance): string {
  return JSON.stringify(i);
}

/**
 * The instance in a znode's data, or null when it is not one (someone else's node, a half-written
 * tool's output): discoverers skip such nodes rather than fail. The path's name and id win over
 * what the JSON says, since the path is what makes it unique.
 */
export function parseInstance(data: Buffer, name: string, id: string): ServiceInstance | null {
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(v) || problem(v) !== null) return null;
  return pick(v, name, id);
}

/** The published load, 0 when none. */
export function loadOf(i: ServiceInstance): number {
  return i.payload?.load ?? 0;
}

export function weightOf(i: ServiceInstance): number {
  return i.weight ?? 1;
}
