import { expect } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

/** Where the configuration tests pretend their file is (messages start with it). */
export const CONFIG_SOURCE = '/srv/config.yaml';

/**
 * The message of the ConfigError that `text` (config.yaml's text) is refused with: one line,
 * as the server prints it. Fails the test when the file is accepted.
 */
export function configFails(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(text, CONFIG_SOURCE, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.includes('\n')).toBe(false);
    return message;
  }
  throw new Error('the configuration was accepted');
}
