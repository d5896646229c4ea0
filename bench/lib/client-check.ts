// Compile-time only: the bench loads the client lazily (bench/lib/client.ts) through its own
// narrow interface; this makes tsc check that interface against the real public API, so a drift
// in src/index.ts (CLIENT_API.md) shows up as a type error here rather than a failed bench run.
import type { connect } from '../../src/index.js';
import type { Connect } from './client.js';

export const clientShapeMatches = (real: typeof connect): Connect => real;
