// Small helpers of the request checks that translations run before they translate
// (anthropic/check-request.ts, responses/check-request.ts): a 400 naming the field, and a value
// quoted short in its message.
import { BadRequestError } from '../errors.js';

/** A value as it can be quoted in an error message, short (objects never stringified: they may nest without end). */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function invalid(message: string, code = 'invalid_request'): BadRequestError {
  return new BadRequestError(message, code);
}
