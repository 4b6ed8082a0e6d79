/**
 * Issue 16: with encryption on, failure messages and stack traces are moved into an encoded
 * payload (which the codec encrypts) instead of staying in clear in history. Loaded by path, in
 * the workflow bundle and by workers and clients alike (temporal/data-converter.ts): it must stay
 * free of Node APIs.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
