/**
 * graphql-js reports variables that fail coercion (an unparseable DateTime, a string for an Int) without a code;
 * this gives them the same `BAD_USER_INPUT` as every other bad input.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode } from '../error-codes.js';

export function useVariableErrorCode(): Plugin {
  return {
    onExecutionResult({ result, setResult }) {
      if (Array.isArray(result) || !result || !('errors' in result) || !result.errors) return;
      const errors = result.errors.map((error) =>
        error.path === undefined &&
        error.extensions?.['code'] === undefined &&
        error.message.startsWith('Variable "$')
          ? new GraphQLError(error.message, {
              nodes: error.nodes ?? null,
              extensions: { code: ErrorCode.BAD_USER_INPUT },
            })
          : error,
      );
      setResult({ ...result, errors });
    },
  };
}
