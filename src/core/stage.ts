// The second argument of every core stage: `stage(input, { lake, signal, onEvent })`. The stage's own request is its
// input; where the lakehouse is, its limits and lock wait are the Lakehouse's (src/db/lakehouse.ts), built once by
// main() (or a test) and asked by the stage. A stage never takes a path, limits or a lock timeout of its own.
import type { Lakehouse } from '../db/lakehouse.js';

export type { Lakehouse } from '../db/lakehouse.js';

export interface StageContext<E = never> {
  /** The one owner of the lakehouse: the stage opens readers, writers and scratch through it. */
  lake: Lakehouse;
  /** Ctrl-C: the stage stops, rolls back what it started and throws InterruptedError. */
  signal?: AbortSignal | undefined;
  /** Progress and notices, for the CLI's bars and the tui; the core never draws. */
  onEvent?: ((e: E) => void) | undefined;
}

/** A stage that may run without a lakehouse (validate, generate): the same context, lake optional. */
export type WorkContext<E = never> = Omit<StageContext<E>, 'lake'> & { lake?: Lakehouse | undefined };
