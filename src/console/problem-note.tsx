/** A failed operation as the console shows it: the stable code, then what it means; read out as an alert. */
import { CombinedError } from '@urql/core';
import { type Problem, problemOf } from './errors.js';

export function ProblemNote(props: { readonly problem: Problem | CombinedError }) {
  const problem = props.problem instanceof CombinedError ? problemOf(props.problem) : props.problem;
  return (
    <p class="outcome error" role="alert">
      <code>{problem.code}</code> {problem.text}
    </p>
  );
}
