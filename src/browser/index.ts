// The browser build of the public client API (CLIENT_API.md) and the recipes: the very modules
// of src/, bundled by scripts/build-browser.mjs into dist/ui/zookooper.js (an ES module). The
// bundle swaps the ws socket for the browser's WebSocket (src/client/socket-browser.ts) and
// supplies what Node has built in: Buffer and EventEmitter from the `buffer` and `events` npm
// packages (the browser ports of Node's own), randomUUID and process from ./shims.ts.
export * from '../index.js';
