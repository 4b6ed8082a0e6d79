/**
 * SPEC U2 and U9: the Notion user a JumpCloud user maps to, or every reason it cannot be
 * provisioned, field by field. Pure and deterministic, like the planner that uses it.
 */
import { EMAIL_PATTERN, normalizeEmail } from '../contracts/shared';

/** The Notion user SPEC U2 asks for. */
export interface DesiredNotionUser {
  userName: string;
  email: string;
  givenName?: string;
  familyName?: string;
  formatted?: string;
}

/** What the mapping reads of a JumpCloud user (user-plan.ts's JumpCloudUserFacts has it). */
interface MappedUser {
  username: string;
  email?: string;
  firstname?: string;
  lastname?: string;
}

export interface FieldProblem {
  field: string;
  message: string;
}

export type Mapping = { ok: true; user: DesiredNotionUser } | { ok: false; problems: FieldProblem[] };

/** Notion's limits are undocumented: these keep well inside what SCIM services accept. */
export const MAX_NAME_LENGTH = 100;
export const MAX_EMAIL_LENGTH = 254;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/**
 * Issue 16: bidirectional marks, embeddings, overrides and isolates, zero-width characters and the
 * byte-order mark. Invisible, they make one name read as another (`Ann\u202Egnp.exe`) in Notion,
 * in mail and on a terminal.
 */
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

export interface MappingOptions {
  /** Refuse bidirectional and zero-width characters (issue 16; workflows decide it by patch). */
  refuseInvisible?: boolean;
}

/** U2 mapping and U9 validation: a user that cannot be provisioned gets every problem by field. */
export function mapUser(
  user: MappedUser,
  usernameSource: 'email' | 'username',
  options: MappingOptions = { refuseInvisible: true },
): Mapping {
  const problems: FieldProblem[] = [];
  const invisible = (value: string) => Boolean(options.refuseInvisible) && INVISIBLE.test(value);
  const email = normalizeEmail(user.email ?? '');
  const firstname = (user.firstname ?? '').trim();
  const lastname = (user.lastname ?? '').trim();
  const userName = usernameSource === 'email' ? email : normalizeEmail(user.username);

  if (!email) problems.push({ field: 'email', message: 'is missing' });
  else if (CONTROL.test(user.email ?? ''))
    problems.push({ field: 'email', message: 'contains control characters' });
  else if (invisible(user.email ?? ''))
    problems.push({ field: 'email', message: 'contains bidirectional or invisible characters' });
  else if (!EMAIL_PATTERN.test(email))
    problems.push({ field: 'email', message: 'is not a valid email address' });
  else if (email.length > MAX_EMAIL_LENGTH)
    problems.push({ field: 'email', message: `is longer than ${MAX_EMAIL_LENGTH} characters` });
  if (usernameSource === 'username' && !EMAIL_PATTERN.test(userName)) {
    problems.push({
      field: 'username',
      message: 'must be an email address to become the Notion userName (USERNAME_SOURCE=username)',
    });
  }
  for (const [field, value] of [
    ['firstname', firstname],
    ['lastname', lastname],
  ] as const) {
    if (CONTROL.test(value)) problems.push({ field, message: 'contains control characters' });
    else if (invisible(value))
      problems.push({ field, message: 'contains bidirectional or invisible characters' });
    else if (value.length > MAX_NAME_LENGTH)
      problems.push({ field, message: `is longer than ${MAX_NAME_LENGTH} characters` });
  }
  if (problems.length > 0) return { ok: false, problems };
  const formatted = [firstname, lastname].filter(Boolean).join(' ');
  return {
    ok: true,
    user: {
      userName,
      email,
      givenName: firstname || undefined,
      familyName: lastname || undefined,
      formatted: formatted || undefined,
    },
  };
}

/** Attribute changes for PATCH replace (`null` removes an attribute). */
