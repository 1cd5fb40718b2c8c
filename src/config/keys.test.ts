import { describe, expect, it } from 'vitest';
import { configFails } from '../../test/support/config.js';
import { parseConfig } from './load.js';

const SOURCE = '/srv/config.yaml';

const fails = configFails;

describe('config.yaml keys: (signing key lifecycle, docs/keys.md)', () => {
  it.each([
    ['an interval of 0 days', 'keys: {rotation_interval_days: 0}', 'keys.rotation_interval_days'],
    ['an interval over ten years', 'keys: {rotation_interval_days: 3651}', 'keys.rotation_interval_days'],
    ['a fractional interval', 'keys: {rotation_interval_days: 1.5}', 'keys.rotation_interval_days'],
    ['no prepublication', 'keys: {prepublish_hours: 0}', 'keys.prepublish_hours'],
    ['a prepublication over 30 days', 'keys: {prepublish_hours: 721}', 'keys.prepublish_hours'],
    ['a prepublication as long as the interval', 'keys: {rotation_interval_days: 1, prepublish_hours: 24}', 'keys.prepublish_hours: must be shorter than rotation_interval_days (in hours)'],
    ['an unknown key', 'keys: {rotate_every: 3}', 'keys'],
  ])('refuses %s, naming the field', (_what, text, field) => {
    expect(fails(text)).toContain(field);
  });

  it('defaults to 90 days, prepublished 24 hours before', () => {
    expect(parseConfig('', SOURCE).keys).toEqual({ rotation_interval_days: 90, prepublish_hours: 24 });
    expect(parseConfig('keys: {rotation_interval_days: 2, prepublish_hours: 47}', SOURCE).keys).toEqual({ rotation_interval_days: 2, prepublish_hours: 47 });
  });
});
