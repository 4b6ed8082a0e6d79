/**
 * Schemas every contract shares: the ids that name workflows and the problems entities record.
 * Contracts (this folder) are what workflows, activities and the `jc-notion` command agree on;
 * they import nothing from workflows/ or activities/ implementations, nor any Node API.
 *
 * Every schema here is built on first use (`z.lazy`): the worker evaluates the workflow bundle's
 * modules again for each workflow it starts or replays (one isolated context per workflow), and
 * building every contract's schemas eagerly cost about a third of the workflow thread's CPU
 * (issue 18, ADR 0017). A workflow now builds only the schemas it parses.
 */
import { z } from 'zod';

/** Connector ids (CONNECTOR_ID): they are part of every workflow id. */
export const connectorIdSchema = z.lazy(() => z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/));

/** JumpCloud object ids: 24 hexadecimal characters. */
export const JUMPCLOUD_ID_PATTERN = /^[0-9a-f]{24}$/i;
export const jumpcloudIdSchema = z.lazy(() => z.string().regex(JUMPCLOUD_ID_PATTERN));
export const isJumpCloudId = (value: string): boolean => JUMPCLOUD_ID_PATTERN.test(value);

/** The last failure an entity recorded (shown by `status`). */
export const problemSchema = z.lazy(() =>
  z.object({ code: z.string(), message: z.string(), at: z.string() }),
);

/** A JumpCloud user's account state (`state` of a system user). */
export const jumpcloudStateSchema = z.lazy(() => z.enum(['STAGED', 'ACTIVATED', 'SUSPENDED']));
export type JumpCloudState = z.infer<typeof jumpcloudStateSchema>;

/** How many history events an entity workflow takes before it continues as new. */
export const MAX_HISTORY_EVENTS = 5_000;

/** What the product takes for an email address (U9, import). */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * An email as the product writes it (SCIM `userName`, `emails`): trimmed, in Unicode NFC, lower
 * case. NFC: `José` typed with a combining accent (NFD) and precomposed are one address.
 */
export function normalizeEmail(value: string): string {
  return value.trim().normalize('NFC').toLowerCase();
}

/**
 * An email as the product compares it (issue 14): NFC and Unicode simple case folding, so that
 * `Kate@…` spelled with U+212A KELVIN SIGN, `kate@…` and `KATE@…` are one identity, and so are
 * NFD and NFC spellings. Not full folding: `straße@…` and `strasse@…` stay two addresses, as
 * Notion and JumpCloud keep them (merging them would block a real user as a conflict).
 */
export function emailKey(value: string): string {
  return value.trim().normalize('NFC').toLowerCase().normalize('NFC');
}
