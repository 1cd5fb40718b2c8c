import { describe, expect, it } from 'vitest';
import { configFails } from '../../test/support/config.js';
import { parseConfig } from './load.js';

const parse = (text: string) => parseConfig(text, '/srv/config.yaml', {});

const fails = configFails;

describe('config.yaml audit:', () => {
  it('keeps events 90 days and failed client authentications 7 by default', () => {
    expect(parse('').audit).toEqual({ retention_days: 90, failed_auth_retention_days: 7 });
    expect(parse('audit: {}').audit).toEqual({ retention_days: 90, failed_auth_retention_days: 7 });
  });

  it('keeps failed client authentications no longer than the rest: retention_days when shorter than 7', () => {
    expect(parse('audit: {retention_days: 3}').audit).toEqual({ retention_days: 3, failed_auth_retention_days: 3 });
    expect(parse('audit: {retention_days: 30, failed_auth_retention_days: 30}').audit).toEqual({ retention_days: 30, failed_auth_retention_days: 30 });
  });

  it.each([
    ['audit: {failed_auth_retention_days: 0}', 'audit.failed_auth_retention_days'],
    ['audit: {failed_auth_retention_days: 3651}', 'audit.failed_auth_retention_days'],
    ['audit: {failed_auth_retention_days: 1.5}', 'audit.failed_auth_retention_days'],
    ['audit: {retention_days: 5, failed_auth_retention_days: 6}', 'audit.failed_auth_retention_days: must be at most retention_days'],
  ])('refuses %s', (text, message) => {
    expect(fails(text)).toContain(message);
  });
});
