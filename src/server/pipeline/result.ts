// The answer to a write, shaped from per-op outcomes. The leader's prep shapes it from what it
// decided; every other server shapes it from what applying the txn left in its tree
// (apply.ts outcomes). Both go through this file, so they cannot drift in shape.
import { assert, unreachable } from '../../common/assert.js';
import type { ServerOpResult } from '../../common/types.js';
import type { WriteValue } from './api.js';
import type { OpOutcome } from './prep.js';
import type { Txn } from './txn.js';

export function toOpResult(o: OpOutcome): ServerOpResult {
  switch (o.type) {
    case 'create':
      return { op: 'create', path: o.path, stat: o.stat };
    case 'delete':
      return { op: 'delete' };
    case 'setData':
      return { op: 'setData', stat: o.stat };
    case 'setACL':
      assert(false, 'setACL is not a multi op');
    case 'check':
      return { op: 'check' };
  }
}

/** The value prep reported for `txn`, from the outcomes of applying its ops in order. */
export function deriveValue(txn: Txn, outcomes: readonly OpOutcome[]): WriteValue {
  switch (txn.type) {
    case 'createSession':
      return { type: 'createSession' };
    case 'closeSession':
      return { type: 'closeSession' };
    case 'ops': {
      assert(outcomes.length === txn.ops.length, 'one outcome per txn op');
      if (txn.multi) return { type: 'multi', results: outcomes.map(toOpResult) };
      if (txn.deleteContainer === true) return { type: 'deleteContainer' };
      assert(outcomes.length === 1, 'a single-op txn has one op');
      const o = outcomes[0]!;
      assert(o.type !== 'check', 'a check is only in a multi');
      return o;
    }
    default:
      return unreachable(txn);
  }
}
