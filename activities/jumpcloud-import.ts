/**
 * The JumpCloud writes of an import (SPEC I2, I3), on the rate-limited `-jumpcloud` queue: one
 * request per activity except on the rare conflict path. Each is idempotent, since Temporal may
 * run an activity twice (a response lost after JumpCloud acted):
 * - a lookup by email comes before every create (the workflow runs `jumpcloudFindUserByEmail`);
 * - a create whose username or email is taken looks the email up when the conflict may be its own
 *   earlier attempt, and answers `exists` with that user instead of creating another;
 * - adding a member twice is not an error (the client takes JumpCloud's 409 as done).
 */
import { activityInfo } from '@temporalio/activity';
import { isApiError } from '../api/errors';
import type { JumpCloudClient, JumpCloudUser, NewJumpCloudUser } from '../api/jumpcloud';
import type { JumpCloudState } from '../contracts/shared';
import { mapFailures } from './failures';

export interface ImportedUserFacts {
  id: string;
  username: string;
  email?: string;
  state: JumpCloudState;
}

export type CreateUserOutcome =
  | { status: 'created'; user: ImportedUserFacts }
  /** A user with this email exists (created by an earlier attempt of this import, or by someone else). */
  | { status: 'exists'; user: ImportedUserFacts }
  | { status: 'username-taken' };

function facts(user: JumpCloudUser): ImportedUserFacts {
  return { id: user.id, username: user.username, email: user.email, state: user.state };
}

/**
 * Which field a refusal is about. JumpCloud answers a duplicate with 409 or with 400 and a message
 * such as "Username 'ann' already exists." / "Email address 'ann@x.io' already exists." (the exact
 * form is undocumented: both are handled). Quoted values are left out so that an email containing
 * "username" cannot mislead.
 */
export function conflictField(
  status: number | undefined,
  detail: string | undefined,
): 'username' | 'email' | 'unknown' | undefined {
  const text = (detail ?? '').replace(/'[^']*'|"[^"]*"/g, '');
  const taken = /already|exist|taken|in use|duplicate|unique/i.test(text);
  const username = /user\s?name/i.test(text);
  const email = /e-?mail/i.test(text);
  if (status === 409 || ((status === 400 || status === 422) && taken && (username || email))) {
    if (username && !email) return 'username';
    if (email && !username) return 'email';
    return 'unknown';
  }
  return undefined;
}

export function createJumpCloudImportActivities(jumpcloud: JumpCloudClient) {
  /** Exact filter on the lower-cased email (Notion's form, and what imports create), compared case-insensitively. */
  async function byEmail(email: string): Promise<JumpCloudUser | undefined> {
    const wanted = email.trim().toLowerCase();
    const users = await jumpcloud.listUsers(`email:$eq:${wanted}`);
    return users.find((user) => user.email?.toLowerCase() === wanted);
  }

  return {
    /** I2: the JumpCloud user with this email, if any (one request). */
    async jumpcloudFindUserByEmail(email: string): Promise<ImportedUserFacts | null> {
      return mapFailures(async () => {
        const user = await byEmail(email);
        return user ? facts(user) : null;
      });
    },

    /** I2: creates the user; a taken username is answered, not thrown, so the workflow tries the next one. */
    async jumpcloudCreateUser(user: NewJumpCloudUser): Promise<CreateUserOutcome> {
      return mapFailures(async () => {
        try {
          return { status: 'created', user: facts(await jumpcloud.createUser(user)) };
        } catch (error) {
          if (!isApiError(error)) throw error;
          const field = conflictField(error.info.status, error.info.detail);
          if (field === undefined) throw error;
          // On a retry the conflict may be this activity's own earlier create; an email conflict
          // (or one that names no field) means the user may exist: look before answering.
          if (field !== 'username' || activityInfo().attempt > 1) {
            // The exact filter first, then a case-insensitive scan (JumpCloud keeps emails' case).
            const found = await jumpcloud.findUserByEmail(user.email);
            if (found) return { status: 'exists', user: facts(found) };
          }
          if (field === 'email') throw error;
          return { status: 'username-taken' };
        }
      });
    },

    /** I3: makes the user a member of the group (already a member: done). */
    async jumpcloudAddUserToGroup(groupId: string, userId: string): Promise<void> {
      return mapFailures(() => jumpcloud.addUserToGroup(groupId, userId));
    },
  };
}

export type JumpCloudImportActivities = ReturnType<typeof createJumpCloudImportActivities>;
