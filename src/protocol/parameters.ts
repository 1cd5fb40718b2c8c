import { quoteInput } from './error-description.js';
import { InvalidRequest } from './errors.js';

/** Parsed query or form parameters: a repeated name arrives as an array. */
export type RawParameters = Readonly<Record<string, string | string[] | undefined>>;

/** Upper bound on any single parameter's length; longer values are refused, never truncated. */
export const MAX_PARAMETER_LENGTH = 4096;

/**
 * RFC 6749 §3.1 and §3.2: request and response parameters MUST NOT be included more than once;
 * parameters sent without a value are treated as omitted.
 */
export function single(params: RawParameters, name: string, maxLength = MAX_PARAMETER_LENGTH): string | undefined {
  const value = params[name];
  if (Array.isArray(value)) throw new InvalidRequest(`${quoteInput(name)} must not be repeated`);
  if (value === undefined || value === '') return undefined;
  if (value.length > maxLength) throw new InvalidRequest(`${quoteInput(name)} is longer than ${maxLength} characters`);
  return value;
}

/** Checks every parameter for repetition and length, returning a plain string map. */
export function singleAll(params: RawParameters): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of Object.keys(params)) out[name] = single(params, name);
  return out;
}
