// The wire protocol (spec: README.md). Server and client import from here.
export * from './codes.js';
export * from './messages.js';
export { ProtocolError } from './errors.js';
export { protocolLimits } from './limits.js';
export { decodeClientFrame, decodeClientMessage, defaultDecodeLimits, type DecodeLimits } from './decode-client.js';
export { decodeServerFrame, decodeServerMessage, decodeErrorPayload, results } from './decode-server.js';
export {
  encodeConnectRequest,
  encodeRequest,
  requestToWire,
  encodeConnectResponse,
  encodeClosing,
  encodeWatchEvent,
  encodeResponse,
  encodeErrorResponse,
  payloads,
} from './encode.js';
export { statToWire, aclToWire, type WireStat, toBytes } from './fields.js';
export { pack, packr, unpackFrame } from './msgpack.js';
