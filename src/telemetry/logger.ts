/**
 * Structured JSON logs (pino). Nothing logs credentials on purpose; redaction is the safety net for anything
 * that would carry them by accident. Lines logged inside a trace carry `trace_id` and `span_id`.
 */
import { pino } from 'pino';
import { traceFields } from './tracing.js';

export type Logger = pino.Logger;

export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'secretKey',
  '*.secretKey',
  'sessionToken',
  '*.sessionToken',
  '*.*.secretKey',
  '*.*.sessionToken',
];

export function createLogger(level: pino.LevelWithSilent, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'ci-workflow-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Every line written on behalf of a traced request names its trace and span.
      mixin: traceFields,
    },
    destination,
  );
}
