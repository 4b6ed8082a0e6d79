/**
 * The pure parts of importing Notion members into JumpCloud (SPEC I1–I3): the JumpCloud username
 * derived from an email, its collision candidates, and the first/last name split. Deterministic:
 * the import workflows and activities run it, unit tests cover it.
 *
 * JumpCloud username rules (support article "Naming Conventions for Users"): a username starts
 * with a letter, contains no space and no "@", only valid Unix characters (the older article:
 * letters, numbers, "." or "_"), at most 30 characters for Mac and Linux and 20 for Windows.
 * Usernames take over local accounts of the same name on devices, matched case-sensitively on Mac
 * and Linux. The strictest reading of each rule is kept, so a derived username works everywhere:
 * lower-case `[a-z0-9._]`, starting with a letter, at most 20 characters, never ending with a
 * separator, and never the name of a system account (a JumpCloud user `root` would take over
 * `root` on every bound device).
 */

export const MAX_USERNAME_LENGTH = 20;

/** What every derived username satisfies. */
export const USERNAME_PATTERN = /^[a-z](?:[a-z0-9._]*[a-z0-9])?$/;

/** System and administrative account names a derived username never takes. */
export const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  'adm',
  'admin',
  'administrator',
  'backup',
  'bin',
  'daemon',
  'ftp',
  'games',
  'guest',
  'irc',
  'jcadmin',
  'list',
  'lp',
  'mail',
  'man',
  'news',
  'nobody',
  'operator',
  'postmaster',
  'proxy',
  'root',
  'sshd',
  'sync',
  'sys',
  'uucp',
]);

/** Letters that Unicode decomposition does not reduce to ASCII. */
const TRANSLITERATIONS: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ð: 'd',
  ł: 'l',
  þ: 'th',
  ı: 'i',
};

/**
 * The username an email suggests before any collision: its local part (without a `+tag`),
 * transliterated to ASCII, lower-cased; hyphens and other separators become dots, anything else
 * outside `[a-z0-9._]` is dropped; a leading digit gets a `u` prefix; at most 20 characters.
 */
export function deriveUsernameBase(email: string): string {
  const at = email.lastIndexOf('@');
  let local = (at > 0 ? email.slice(0, at) : email).trim();
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  local = local
    .toLowerCase()
    .replace(/[ßæœøđðłþı]/g, (c) => TRANSLITERATIONS[c] ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[-+\s,;:/\\|'`~!#$%&*=?^{}]+/g, (m) => (/['`]/.test(m) ? '' : '.'))
    .replace(/[^a-z0-9._]/g, '')
    .replace(/[._]{2,}/g, (m) => m[0]!)
    .replace(/^[._]+/, '');
  if (/^[0-9]/.test(local)) local = `u${local}`;
  return trimUsername(local) || 'user';
}

/** `base`, then `base2`, `base3`… (`base_2` when `base` ends with a digit), kept within 20 characters. */
export function usernameCandidate(base: string, attempt: number): string {
  if (attempt <= 0) return trimUsername(base);
  const suffix = String(attempt + 1);
  let stem = trimUsername(base.slice(0, MAX_USERNAME_LENGTH - suffix.length));
  if (/[0-9]$/.test(stem)) stem = trimUsername(stem.slice(0, MAX_USERNAME_LENGTH - suffix.length - 1)) + '_';
  return `${stem}${suffix}`;
}

/**
 * The `n`-th username to try for `email` (0: the first choice), skipping reserved names. An
 * import tries them in order until JumpCloud accepts one: a taken username is the next candidate.
 */
export function usernameFor(email: string, n: number): string {
  const base = deriveUsernameBase(email);
  let index = -1;
  for (let attempt = 0; ; attempt++) {
    const candidate = usernameCandidate(base, attempt);
    if (RESERVED_USERNAMES.has(candidate)) continue;
    index += 1;
    if (index >= n) return candidate;
  }
}

function trimUsername(value: string): string {
  return value.slice(0, MAX_USERNAME_LENGTH).replace(/[._]+$/, '');
}

// ---- names ------------------------------------------------------------------------------------

/** What Notion may hold of a member's name; no part is guaranteed (reference/notion-scim.md). */
export interface NotionName {
  givenName?: string;
  familyName?: string;
  formatted?: string;
  displayName?: string;
}

export interface SplitName {
  firstname: string;
  lastname: string;
  /** Where the names came from: Notion's parts, or a split of the formatted name. */
  source: 'parts' | 'formatted' | 'none';
}

/** Lower-case particles that start a family name: "Ludwig van Beethoven", "Juan de la Cruz". */
const PARTICLES = new Set([
  'al',
  'bin',
  'da',
  'das',
  'de',
  'del',
  'della',
  'der',
  'den',
  'di',
  'do',
  'dos',
  'du',
  'el',
  'ibn',
  'la',
  'le',
  'st.',
  'ten',
  'ter',
  'van',
  'von',
  'zu',
]);

/** Generational and academic suffixes stay with the family name: "Martin Luther King Jr.". */
const SUFFIXES = /^(jr\.?|sr\.?|ii|iii|iv|v|phd|ph\.d\.|md|m\.d\.|esq\.?)$/i;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;

/** Control characters become spaces (SPEC U9 would refuse them); only the ends are trimmed (U2). */
function clean(value: string | undefined): string {
  return (value ?? '').replace(CONTROL, ' ').trim();
}

/**
 * JumpCloud's firstname and lastname for a Notion member. Notion's `givenName`/`familyName` are
 * used as they are (case kept: SPEC U2) when present; a missing one is recovered from `formatted`
 * when that starts or ends with the other. Without parts, the formatted (or display) name is split.
 */
export function splitName(name: NotionName): SplitName {
  const given = clean(name.givenName);
  const family = clean(name.familyName);
  const formatted = clean(name.formatted) || clean(name.displayName);
  if (given && family) return { firstname: given, lastname: family, source: 'parts' };
  if (given) {
    const rest = formatted.startsWith(`${given} `) ? formatted.slice(given.length).trim() : '';
    return { firstname: given, lastname: rest, source: 'parts' };
  }
  if (family) {
    const rest = formatted.endsWith(` ${family}`) ? formatted.slice(0, -family.length).trim() : '';
    return { firstname: rest, lastname: family, source: 'parts' };
  }
  if (!formatted) return { firstname: '', lastname: '', source: 'none' };
  return { ...splitFormattedName(formatted), source: 'formatted' };
}

/**
 * A reasoned split of a single name field:
 * - "Lee, Ann" (one comma, not before a suffix) is "family, given";
 * - one word is a first name ("Cher"; names written without spaces stay whole);
 * - the family name starts at the first lower-case particle after the first word ("Ludwig |van
 *   Beethoven", "Juan |de la Cruz"), otherwise it is the last word ("Mary Ann |Smith"), with any
 *   trailing suffixes ("Martin Luther |King Jr.").
 */
export function splitFormattedName(value: string): { firstname: string; lastname: string } {
  const text = clean(value).replace(/\s+/g, ' ');
  if (!text) return { firstname: '', lastname: '' };
  const commas = text.split(',');
  if (commas.length === 2) {
    const [before, after] = [commas[0]!.trim(), commas[1]!.trim()];
    if (before && after && !SUFFIXES.test(after)) return { firstname: after, lastname: before };
  }
  const words = text.split(' ');
  if (words.length === 1) return { firstname: words[0]!, lastname: '' };
  let end = words.length;
  while (end > 2 && SUFFIXES.test(words[end - 1]!)) end -= 1;
  const core = words.slice(0, end);
  const suffixes = words.slice(end);
  let split = core.length - 1;
  for (let i = 1; i < core.length - 1; i++) {
    if (PARTICLES.has(core[i]!) && core[i] === core[i]!.toLowerCase()) {
      split = i;
      break;
    }
  }
  return {
    firstname: core.slice(0, split).join(' '),
    lastname: [...core.slice(split), ...suffixes].join(' '),
  };
}
