/** Configurations for tests, built through the real parser. */
import { parseConfig, type WorkerConfig } from '../../config/config';

/** Secret values tests look for in places they must never appear. */
export const TEST_SECRETS = {
  JUMPCLOUD_API_KEY: 'jc-secret-7f3a9c1e5b',
  NOTION_SCIM_TOKEN: 'notion-secret-2d8e4b6f0a',
} as const;

export function testWorkerConfig(env: Record<string, string | undefined> = {}): WorkerConfig {
  return parseConfig(
    {
      JUMPCLOUD_API_KEY: TEST_SECRETS.JUMPCLOUD_API_KEY,
      JUMPCLOUD_APP_ID: '64b7f0c2a1d3e4f5a6b7c8d9',
      NOTION_SCIM_TOKEN: TEST_SECRETS.NOTION_SCIM_TOKEN,
      LOG_LEVEL: 'warn',
      // The change feed (C4) stays quiet unless a test asks for it: tests drive syncs themselves.
      POLL_INTERVAL: '1h',
      ...env,
    },
    'worker',
  ) as WorkerConfig;
}

/**
 * Issue 16: fixed keys of the encrypted stories (test-only: they are in the repository so that
 * the encrypted replay fixtures can be read). `k1` first, then `k2` added in front (rotation).
 */
export const TEST_PRIVACY = {
  K1: 'k1:BiwxnsNJ3d4Iv+KpZVSTeJaRfXb7ITd0jmGpTKV8ey0=',
  K2: 'k2:efsuZUf5NBeUjrcyOw175rWljDa+4LrnIqdYCHtMgfU=',
  HMAC_KEY: '5UZdWClO3llb4/zcjCVdvOrMMLuRBPVerCnB8ujsuq0=',
  CODEC_SERVER_TOKEN: 'codec-token-3f9d1b7a5e2c8046',
} as const;
