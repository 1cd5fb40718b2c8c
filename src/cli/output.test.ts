import { describe, expect, it } from 'vitest';
import { CliError, parseLimit } from './output.js';

describe('parseLimit (--limit)', () => {
  it.each(['1', '50', '200', '007'])('accepts %s', (value) => {
    expect(parseLimit(value)).toBe(Number(value));
  });

  it.each(['0', '201', '0x10', '1e2', ' 5', '5 ', '5.0', '-1', '', '+5', '0b1', '1000'])('refuses %j with exit code 2', (value) => {
    expect(() => parseLimit(value)).toThrow(new CliError('--limit must be an integer from 1 to 200', 2));
    try {
      parseLimit(value);
    } catch (error) {
      expect((error as CliError).exitCode).toBe(2);
    }
  });
});
