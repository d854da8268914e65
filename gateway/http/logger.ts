import pino, { type Logger } from 'pino';

// Secrets that could reach a log line: credentials in headers, the session cookie (in either
// direction), and passwords or tokens in a body someone decides to log.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'password',
  'token',
  '*.password',
  '*.token',
  'body.password',
  'req.body.password',
];

/** The HTTP API's logger: the caller's pino logger (or a new one), with redaction on top. */
export function httpLogger(base: Logger | undefined): Logger {
  return (base ?? pino({ name: 'dutyroom-http' })).child({}, { redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
