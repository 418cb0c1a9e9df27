/**
 * The gateway sends a trigger to CI at most once: when CI's answer is lost (`UPSTREAM_OUTCOME_UNKNOWN`) it may or
 * may not have started the run, and nothing is retried. The console makes that rule visible: after such an answer
 * the button stays disabled until the person has checked for what the attempt might have started; only a check
 * that finds nothing lets it be sent again.
 */
import type { CombinedError } from '@urql/core';
import { useState } from 'preact/hooks';
import { OUTCOME_UNKNOWN, type Problem, problemOf } from './errors.js';
import { ProblemNote } from './problem-note.js';

type Phase =
  | { readonly kind: 'idle' }
  | { readonly kind: 'sending' }
  | { readonly kind: 'sent'; readonly text: string }
  | { readonly kind: 'failed'; readonly problem: Problem }
  | { readonly kind: 'unknown'; readonly since: Date; readonly checking: boolean }
  | { readonly kind: 'checked'; readonly text: string };

export interface Sent {
  readonly error?: CombinedError | undefined;
  /** What to tell the person when it worked. */
  readonly text?: string | undefined;
}

export interface AtMostOnce {
  readonly phase: Phase;
  /** Sending is refused while one is in flight, and after a lost answer until it was checked. */
  readonly blocked: boolean;
  send(): Promise<void>;
  check(): Promise<void>;
}

/**
 * `send` performs the mutation once; `findSince` looks for what an attempt begun at `since` started, and answers
 * a description of it, or null when there is none.
 */
export function useAtMostOnce(
  send: () => Promise<Sent>,
  findSince: (since: Date) => Promise<string | null>,
): AtMostOnce {
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const blocked = phase.kind === 'sending' || phase.kind === 'unknown';
  return {
    phase,
    blocked,
    async send() {
      if (blocked) return;
      // A little before now: CI stamps the run with its own clock.
      const since = new Date(Date.now() - 60_000);
      setPhase({ kind: 'sending' });
      const result = await send();
      if (!result.error) return setPhase({ kind: 'sent', text: result.text ?? 'Done.' });
      const problem = problemOf(result.error);
      setPhase(
        problem.code === OUTCOME_UNKNOWN
          ? { kind: 'unknown', since, checking: false }
          : { kind: 'failed', problem },
      );
    },
    async check() {
      if (phase.kind !== 'unknown') return;
      setPhase({ ...phase, checking: true });
      const found = await findSince(phase.since).catch(() => undefined);
      if (found === undefined) return setPhase({ ...phase, checking: false });
      setPhase({
        kind: 'checked',
        text: found
          ? `CI did act: ${found}. Nothing was sent twice.`
          : 'CI did not act: nothing was started since the attempt, so sending again is safe.',
      });
    },
  };
}

/** What became of the last attempt, read out to screen readers as it changes. */
export function Outcome(props: { readonly action: AtMostOnce }) {
  const { phase } = props.action;
  switch (phase.kind) {
    case 'idle':
      return <p class="outcome" aria-live="polite" />;
    case 'sending':
      return (
        <p class="outcome" aria-live="polite">
          Sending… (sent once; never retried after a lost answer)
        </p>
      );
    case 'sent':
    case 'checked':
      return (
        <p class="outcome ok" aria-live="polite">
          {phase.text}
        </p>
      );
    case 'failed':
      return <ProblemNote problem={phase.problem} />;
    case 'unknown':
      return (
        <div class="outcome unknown" role="alert">
          <p>
            <code>{OUTCOME_UNKNOWN}</code> CI may or may not have acted, and the gateway sent nothing more.
            Check before you try again: sending blindly could start it twice.
          </p>
          <button type="button" onClick={() => void props.action.check()} disabled={phase.checking}>
            {phase.checking ? 'Checking…' : 'Check what it started'}
          </button>
        </div>
      );
  }
}
