/**
 * What a scenario is handed: the run's options, its own database, a scope that closes whatever it
 * opened (even when it fails or runs out of time), and where to put its rows and notes.
 */
import type { BenchServer } from './database.ts';
import type { ResultRow } from './results.ts';

export interface BenchOptions {
  /** Small counts and short runs, one round by default: a smoke test for CI. */
  readonly quick: boolean;
  /** Rounds per scenario (each round runs the baseline and Storyline once, interleaved). */
  readonly rounds: number;
  /** Scenario names to run; null runs all of them. */
  readonly only: readonly string[] | null;
}

/** Closes what was opened, last opened first; a failing close does not stop the others. */
export class Scope {
  readonly #closers: (() => Promise<void> | void)[] = [];
  #closed = false;

  defer(close: () => Promise<void> | void): void {
    if (this.#closed) {
      void Promise.resolve(close()).catch(() => undefined);
      return;
    }
    this.#closers.push(close);
  }

  /** Runs every close; returns the errors instead of throwing so a report still gets written. */
  async close(): Promise<unknown[]> {
    this.#closed = true;
    const errors: unknown[] = [];
    for (let closer = this.#closers.pop(); closer !== undefined; closer = this.#closers.pop()) {
      try {
        await closer();
      } catch (error) {
        errors.push(error);
      }
    }
    return errors;
  }
}

/**
 * A stand-alone bench script's entry (soak, attacks): runs `main`, then closes `scope` whatever
 * happened, and exits with `main`'s code (1 if it threw). It exits explicitly so that a handle
 * left open by a failed run cannot keep the process alive.
 */
export async function runScript(scope: Scope, main: () => Promise<number>): Promise<never> {
  let exitCode = 0;
  try {
    exitCode = await main();
  } catch (error) {
    console.error(error);
    exitCode = 1;
  } finally {
    const errors = await scope.close();
    for (const error of errors) console.error('while cleaning up:', error);
  }
  process.exit(exitCode);
}

export interface ScenarioContext {
  readonly options: BenchOptions;
  readonly server: BenchServer;
  readonly scope: Scope;
  /** `performance.now()` after which the scenario starts nothing new and reports what it has. */
  readonly deadline: number;
  /** The full figure, or the quick one with --quick. */
  size<T>(full: T, quick: T): T;
  report(row: ResultRow): void;
  note(text: string): void;
  /** Progress for people watching, on stderr. */
  log(text: string): void;
}

export interface Scenario {
  readonly name: string;
  /** One line: what it measures against what. */
  readonly title: string;
  /** The time cap of the whole scenario, full and quick, in seconds. */
  readonly capSeconds: { readonly full: number; readonly quick: number };
  run(context: ScenarioContext): Promise<void>;
}

/** Whether there is time for another round: always for the first one. */
export const timeLeft = (context: ScenarioContext, completedRounds: number): boolean =>
  completedRounds === 0 || performance.now() < context.deadline;

export class DeadlineError extends Error {
  constructor(what: string) {
    super(`${what} did not finish within the scenario's time cap`);
  }
}
