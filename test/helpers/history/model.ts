// The model the linearizability search checks against: one versioned register (a znode's data
// and data version), and what each kind of op requires of it and does to it.
import type { HistoryOp, RegisterState } from './types.js';

/** Applies `op` to `state`: the next state, or null if the op cannot take effect in this state. */
export function step(state: RegisterState, op: HistoryOp): RegisterState | null {
  switch (op.kind) {
    case 'read':
      return state.value === op.readValue && state.version === op.version ? state : null;
    case 'write':
      if (op.outcome === 'ok' && op.version !== undefined && op.version !== state.version + 1) return null;
      return { value: op.value!, version: state.version + 1 };
    case 'cas':
      if (op.outcome === 'failed') return state.version !== op.expectedVersion ? state : null; // BADVERSION
      if (state.version !== op.expectedVersion) return null;
      if (op.outcome === 'ok' && op.version !== undefined && op.version !== state.version + 1) return null;
      return { value: op.value!, version: state.version + 1 };
  }
}
