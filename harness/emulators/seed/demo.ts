/**
 * The demo organisation (`--seed demo`, `POST /_emulator/seed {"name":"demo"}`): a
 * deterministic company of 240 people in 19 user groups, some nested and overlapping, with the
 * `Notion` application bound to several of them and to one user directly, a few users whose data
 * Notion will refuse, and the Notion workspace as it was before the connector existed.
 *
 * Deterministic: a seeded PRNG (mulberry32) drives every choice, so the same seed gives the same
 * ids, names and memberships on every run.
 */
import type { JumpCloudSeed } from '../jumpcloud/seed';
import type { NotionSeed } from '../notion';

export type { NotionSeed } from '../notion';

export interface DemoOrganization {
  jumpcloud: JumpCloudSeed;
  notion: NotionSeed;
}

export interface DemoOptions {
  /** PRNG seed (default 20240607). */
  seed?: number;
}

type SeedUser = NonNullable<JumpCloudSeed['users']>[number];
type SeedGroup = NonNullable<JumpCloudSeed['groups']>[number];

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST_NAMES = (
  'José|Zoë|Björn|Chloé|Siobhán|Łukasz|Mónica|François|Søren|Ümit|Ana-Maria|Jean-Luc|Mary-Kate|' +
  'Aoife|Dmitri|Priya|Oluwaseun|Hiroshi|Mei|Fatima|Ahmed|Inès|Kai|Leilani|Tomás|Agnieszka|Kwame|' +
  'Yuki|Lars|Ingrid|Raúl|Dónal|Émilie|Noémie|Hélène|Ólafur|Maëlle|Zoltán|Günter|Anaïs|Çağla|Ayşe|' +
  'Chidi|Ngozi|Sakura|Haruto|Ji-woo|Min-jun|Wei|Xiaoling|Arjun|Ananya|Rohan|Isabella|Liam|Olivia|' +
  'Noah|Emma|William|Sophia|James|Charlotte|Benjamin|Amelia|Lucas|Harper|Henry|Evelyn|Alexander|' +
  'Abigail|Michael|Emily|Daniel|Elizabeth|Matthew|Sofia|David|Avery|Joseph|Ella|Samuel|Scarlett|' +
  'Sebastian|Grace|Jack|Chloe|Owen|Victoria|Luke|Riley|Gabriel|Aria|Anthony|Lily|Isaac|Aubrey|' +
  'Dylan|Zoey|Leo|Penelope'
).split('|');

const LAST_NAMES = (
  "McDonald|MacLeod|O'Brien|O'Connor|de la Cruz|van der Berg|van den Broek|da Silva|dos Santos|" +
  'García|Müller|Schröder|Nguyễn|Trần|Kowalski|Wiśniewska|Smith-Jones|Taylor-Johnson|Al-Farsi|' +
  "Ben-David|D'Angelo|DiMaggio|LeBlanc|St. John|Fitzgerald|Ó Súilleabháin|Núñez|Ibáñez|Sørensen|" +
  'Åberg|Öztürk|Yılmaz|Çelik|Papadopoulos|Ivanova|Petrović|Horváth|Dvořák|Novák|Kim|Park|Lee|Wang|' +
  'Zhang|Chen|Tanaka|Suzuki|Watanabe|Patel|Sharma|Singh|Okafor|Adeyemi|Mensah|Haddad|Cohen|Levi|' +
  'Rossi|Bianchi|Esposito|Fernández|López|Martínez|Rodríguez|Pérez|Gómez|Johnson|Williams|Brown|' +
  'Jones|Miller|Davis|Wilson|Anderson|Thomas|Moore|Jackson|Martin|Thompson|White|Harris|Clark|' +
  'Lewis|Robinson|Walker|Young|Allen|King|Wright|Scott|Hill|Green|Adams|Baker|Nelson|Carter|' +
  'Mitchell|Roberts|Turner|Campbell'
).split('|');

/** Names that must appear (department heads get them): particles, prefixes, accents, hyphens. */
const SHOWCASE_NAMES: [string, string][] = [
  ['Siobhán', 'McDonald'],
  ['María José', 'de la Cruz'],
  ['Jean-Luc', 'Van der Merwe'],
  ['Zoë', "O'Brien"],
  ['Björn', 'Ødegård'],
  ['Ngozi', 'Okonkwo-Adeyemi'],
  ['Łukasz', 'Wiśniewski'],
  ['José Luis', 'García Márquez'],
  ['Hannah', 'MacDonald'],
  ['Seán', 'Ó Súilleabháin'],
  ['Ana-Sofía', 'dos Santos'],
  ['Thị Mai', 'Nguyễn'],
];

/** Departments in order, with head counts (240 in all) and the group each member joins. */
const DEPARTMENTS: { name: string; count: number; groups: (index: number) => string[]; title: string }[] = [
  {
    name: 'Engineering',
    count: 70,
    title: 'Software Engineer',
    groups: (i) =>
      i < 25
        ? ['Engineering']
        : i < 50
          ? ['Platform Engineering', ...(i < 31 ? ['SRE On-Call'] : [])]
          : ['Frontend Engineering'],
  },
  { name: 'Data Science', count: 15, title: 'Data Scientist', groups: () => ['Data Science'] },
  { name: 'Product', count: 20, title: 'Product Manager', groups: () => ['Product'] },
  { name: 'Design', count: 12, title: 'Product Designer', groups: () => ['Design'] },
  {
    name: 'Sales',
    count: 35,
    title: 'Account Executive',
    groups: (i) => (i < 12 ? ['Sales EMEA'] : ['Sales']),
  },
  { name: 'Marketing', count: 18, title: 'Marketing Manager', groups: () => ['Marketing'] },
  {
    name: 'Customer Success',
    count: 25,
    title: 'Customer Success Manager',
    groups: () => ['Customer Success'],
  },
  { name: 'Finance', count: 10, title: 'Financial Analyst', groups: () => ['Finance'] },
  { name: 'People Ops', count: 8, title: 'People Partner', groups: () => ['People Ops'] },
  { name: 'Legal', count: 5, title: 'Counsel', groups: () => ['Legal'] },
  { name: 'IT', count: 6, title: 'IT Administrator', groups: () => ['IT Admins'] },
  { name: 'Contractors', count: 16, title: 'Contractor', groups: () => ['Contractors'] },
];

const GROUPS: { name: string; description: string; nested?: string[] }[] = [
  {
    name: 'Engineering',
    description: 'All engineering teams',
    nested: ['Platform Engineering', 'Frontend Engineering', 'Data Science'],
  },
  { name: 'Platform Engineering', description: 'Infrastructure and platform', nested: ['SRE On-Call'] },
  { name: 'SRE On-Call', description: 'Site reliability on-call rotation' },
  { name: 'Frontend Engineering', description: 'Web and mobile clients' },
  { name: 'Data Science', description: 'Analytics and machine learning' },
  { name: 'Product', description: 'Product management' },
  { name: 'Design', description: 'Product and brand design' },
  { name: 'Leadership', description: 'Department heads' },
  { name: 'Contractors', description: 'External contractors' },
  { name: 'Sales', description: 'Sales worldwide', nested: ['Sales EMEA'] },
  { name: 'Sales EMEA', description: 'Sales in Europe, the Middle East and Africa' },
  { name: 'Marketing', description: 'Marketing and communications' },
  { name: 'Customer Success', description: 'Customer success and support' },
  { name: 'Finance', description: 'Finance and accounting' },
  { name: 'People Ops', description: 'People operations' },
  { name: 'Legal', description: 'Legal and compliance' },
  { name: 'IT Admins', description: 'IT administration' },
  { name: 'Notion Champions', description: 'Notion power users outside the product teams' },
  {
    name: 'All Staff',
    description: 'Everyone',
    nested: [
      'Engineering',
      'Product',
      'Design',
      'Sales',
      'Marketing',
      'Customer Success',
      'Finance',
      'People Ops',
      'Legal',
      'IT Admins',
    ],
  },
];

/** Bound to Notion; the rest (Sales, Finance, All Staff, …) are not. */
const NOTION_GROUPS = [
  'Engineering',
  'Data Science',
  'Product',
  'Design',
  'Leadership',
  'Contractors',
  'Marketing',
  'Notion Champions',
];

const LOCATIONS = 'Berlin|Dublin|Lisbon|New York|San Francisco|Singapore|Toronto|Remote'.split('|');

const SPECIAL_LETTERS: Record<string, string> = {
  ł: 'l',
  ø: 'o',
  æ: 'ae',
  ß: 'ss',
  þ: 'th',
  đ: 'd',
  ı: 'i',
  å: 'a',
};

/** `Ó Súilleabháin` → `osuilleabhain`: the ASCII an email address or username is made of. */
function ascii(name: string): string {
  return name
    .toLowerCase()
    .replace(/[łøæßþđı]/g, (letter) => SPECIAL_LETTERS[letter] ?? letter)
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9-]/g, '');
}

function objectId(random: () => number, at: number): string {
  let tail = '';
  for (let i = 0; i < 16; i += 1) tail += Math.floor(random() * 16).toString(16);
  return (
    Math.floor(at / 1000)
      .toString(16)
      .padStart(8, '0') + tail
  );
}

export function createDemoOrganization(options: DemoOptions = {}): DemoOrganization {
  const random = mulberry32(options.seed ?? 20240607);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

  const start = Date.UTC(2021, 2, 1);
  const users: SeedUser[] = [];
  const membersOf = new Map<string, string[]>(GROUPS.map((group) => [group.name, []]));
  const usernames = new Set<string>();
  const emails = new Set<string>();
  const heads: string[] = [];
  let serial = 0;

  const unique = (base: string, taken: Set<string>, suffix = '') => {
    let candidate = `${base}${suffix}`;
    for (let n = 2; taken.has(candidate); n += 1) candidate = `${base}${n}${suffix}`;
    taken.add(candidate);
    return candidate;
  };

  for (const department of DEPARTMENTS) {
    for (let i = 0; i < department.count; i += 1) {
      serial += 1;
      const showcase = i === 0 ? SHOWCASE_NAMES[heads.length] : undefined;
      const firstname = showcase?.[0] ?? pick(FIRST_NAMES);
      const lastname = showcase?.[1] ?? pick(LAST_NAMES);
      const created = start + serial * 3 * 86_400_000 + Math.floor(random() * 86_400_000);
      const contractor = department.name === 'Contractors';
      const username = unique(`${ascii(firstname).charAt(0)}${ascii(lastname).replace(/-/g, '')}`, usernames);
      // Three contractors use their own company's (unverified) domain.
      const domain = contractor && i < 3 ? '@contractor.io' : '@example.com';
      const email = unique(`${ascii(firstname)}.${ascii(lastname)}`, emails, domain);
      const roll = random();
      const state = i === 0 ? 'ACTIVATED' : roll < 0.06 ? 'STAGED' : roll < 0.11 ? 'SUSPENDED' : 'ACTIVATED';
      users.push({
        id: objectId(random, created),
        username,
        email,
        firstname,
        lastname,
        displayname: `${firstname} ${lastname}`,
        state,
        department: department.name,
        jobTitle: i === 0 ? `Head of ${department.name}` : department.title,
        company: 'Example Corp',
        location: pick(LOCATIONS),
        employeeIdentifier: `E${String(1000 + serial)}`,
        employeeType: contractor ? 'Contractor' : 'Full-time',
        created: new Date(created).toISOString(),
      });
      for (const group of department.groups(i)) membersOf.get(group)!.push(username);
      if (i === 0) heads.push(username);
    }
  }

  const inDepartment = (name: string) => users.filter((user) => user.department === name);
  const active = (user: SeedUser) => Object.assign(user, { state: 'ACTIVATED' as const });
  const engineers = inDepartment('Engineering');

  // Data Notion will refuse (U8/U9) on users who are in scope: a control character in a name, an
  // over-long name; and an email in mixed case, which must still match (U2/U3).
  const bell = active(engineers[3]!);
  bell.firstname = `${bell.firstname!.slice(0, 2)}\u0007${bell.firstname!.slice(2)}`;
  bell.displayname = `${bell.firstname} ${bell.lastname}`;
  const long = active(engineers[4]!);
  long.lastname = `${long.lastname}-Wolfeschlegelsteinhausenbergerdorff-${'Welchevoralternwarengewissenhaftschaferswessenschafe'.repeat(5)}`;
  const mixedCase = active(inDepartment('Product')[2]!);
  mixedCase.email = mixedCase.email
    .replace(/^[a-z]/, (letter) => letter.toUpperCase())
    .replace('@example.com', '@Example.com');
  for (const contractor of inDepartment('Contractors').slice(0, 3)) active(contractor);

  // Overlaps: department heads lead, a few people outside the product teams champion Notion,
  // two platform engineers administer IT.
  membersOf.get('Leadership')!.push(...heads);
  const champions = [
    ...inDepartment('Sales').slice(1, 3),
    ...inDepartment('Customer Success').slice(1, 3),
    inDepartment('Finance')[1]!,
    engineers[6]!,
  ];
  membersOf.get('Notion Champions')!.push(...champions.map((user) => active(user).username));
  membersOf.get('IT Admins')!.push(...membersOf.get('Platform Engineering')!.slice(0, 2));

  // Bound directly, outside every bound group: the external auditor in Finance.
  const auditor = Object.assign(active(inDepartment('Finance')[3]!), { jobTitle: 'External Auditor' });

  const groups: SeedGroup[] = GROUPS.map((group) => ({
    id: objectId(random, start + GROUPS.indexOf(group) * 86_400_000),
    name: group.name,
    description: group.description,
    members: [...new Set(membersOf.get(group.name))],
    groups: group.nested ?? [],
  }));

  const jumpcloud: JumpCloudSeed = {
    users,
    groups,
    applications: [{ id: objectId(random, start), name: 'Slack' }],
    bindings: [
      { groups: NOTION_GROUPS, users: [auditor.username] },
      { application: 'Slack', groups: ['All Staff'] },
    ],
  };

  // The Notion workspace before the connector: the token owner (implicit), people who joined by
  // themselves (some are JumpCloud users, one is nobody's), and a `Design` group that the
  // connector will take over (G3) holding someone who is not in JumpCloud's Design.
  const designers = inDepartment('Design').map(active);
  const marketer = active(inDepartment('Marketing')[1]!);
  const suspendedEngineer = Object.assign(engineers[10]!, { state: 'SUSPENDED' as const });
  const head = users.find((user) => user.username === heads[0])!;
  const notionUser = (user: SeedUser, familyName = user.lastname) => ({
    userName: user.email.toLowerCase(),
    givenName: user.firstname,
    familyName,
    formatted: `${user.firstname} ${familyName}`,
    active: true,
  });
  const outsider = {
    userName: 'freelance.writer@example.com',
    givenName: 'Robin',
    familyName: 'Quill',
    formatted: 'Robin Quill',
    active: true,
  };
  const notion: NotionSeed = {
    users: [
      notionUser(designers[1]!),
      // A change of case alone is a change (U2): JumpCloud's spelling will be pushed.
      notionUser(designers[2]!, designers[2]!.lastname!.toLowerCase()),
      notionUser(marketer),
      notionUser(suspendedEngineer),
      notionUser(head),
      outsider,
    ],
    groups: [
      {
        displayName: 'Design',
        members: [designers[1]!.email.toLowerCase(), marketer.email.toLowerCase(), outsider.userName],
      },
      { displayName: 'Leadership', members: [head.email.toLowerCase()], soleOwner: true },
    ],
  };

  return { jumpcloud, notion };
}
