// Curator-style recipes built on the public client (src/recipes/README.md).
export * from './util.js';
export * from './discovery/index.js';
export * from './locks/index.js';
export * from './data/index.js';
