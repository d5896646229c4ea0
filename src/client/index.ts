export { connect, ZookooperClient } from './client.js';
export type { ClientState } from './session.js';
export type { ConnectOptions, AuthInfo, TlsOptions } from './options.js';
export { parseConnectString, type ConnectString, type HostPort } from './connect-string.js';
