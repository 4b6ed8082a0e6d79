/** I2: JumpCloud's firstname/lastname from a Notion member's name parts, or a reasoned split of its formatted name. */
import {
  decodeImportList,
  encodeImportList,
  sortImportList,
  type ImportListEntry,
} from '../../common/import-list';
import { splitFormattedName, splitName } from '../../workflows/import-plan';

describe("I2: Notion's name parts are used as they are", () => {
  test('both parts, case kept, only the ends trimmed', () => {
    expect(splitName({ givenName: ' Zoë ', familyName: 'McDonald', formatted: 'Whatever' })).toEqual({
      firstname: 'Zoë',
      lastname: 'McDonald',
      source: 'parts',
    });
  });

  test('one part missing: recovered from the formatted name when it starts or ends with the other', () => {
    expect(splitName({ givenName: 'Mary', formatted: 'Mary Ann Smith' })).toEqual({
      firstname: 'Mary',
      lastname: 'Ann Smith',
      source: 'parts',
    });
    expect(splitName({ familyName: 'de la Cruz', formatted: 'Juan Pablo de la Cruz' })).toEqual({
      firstname: 'Juan Pablo',
      lastname: 'de la Cruz',
      source: 'parts',
    });
    expect(splitName({ givenName: 'Cher' })).toEqual({ firstname: 'Cher', lastname: '', source: 'parts' });
  });

  test('control characters are not carried over (SPEC U9 would refuse them)', () => {
    expect(splitName({ givenName: 'Bad\u0007', familyName: 'Name' })).toEqual({
      firstname: 'Bad',
      lastname: 'Name',
      source: 'parts',
    });
  });
});

describe('I2: without parts, the formatted name is split', () => {
  test.each([
    ['Ann Lee', 'Ann', 'Lee'],
    ['Mary Ann Smith', 'Mary Ann', 'Smith'],
    ['Ludwig van Beethoven', 'Ludwig', 'van Beethoven'],
    ['Juan de la Cruz', 'Juan', 'de la Cruz'],
    ['Van Morrison', 'Van', 'Morrison'],
    ['Martin Luther King Jr.', 'Martin Luther', 'King Jr.'],
    ['Lee, Ann', 'Ann', 'Lee'],
    ['  Ann    Lee  ', 'Ann', 'Lee'],
    ['Cher', 'Cher', ''],
    ['山田太郎', '山田太郎', ''],
    ['', '', ''],
  ])('"%s" → "%s" / "%s"', (formatted, firstname, lastname) => {
    expect(splitFormattedName(formatted)).toEqual({ firstname, lastname });
  });

  test('the display name is the fallback; no name at all gives empty names', () => {
    expect(splitName({ displayName: 'Grace Hopper' })).toEqual({
      firstname: 'Grace',
      lastname: 'Hopper',
      source: 'formatted',
    });
    expect(splitName({})).toEqual({ firstname: '', lastname: '', source: 'none' });
  });
});

describe('I1: the compact listing', () => {
  const entries = [
    { status: 'Imported' as const, email: 'a@x.io', name: 'A', jumpcloudUsername: 'a' },
    { status: 'New' as const, email: 'b@x.io', name: 'Bé' },
    { status: 'New' as const, email: 'c@x.io', name: '' },
  ];

  test('round-trips through its encoding', () => {
    expect(decodeImportList(encodeImportList(entries))).toEqual(entries);
  });

  test('10,000 members stay far below a workflow payload limit', () => {
    const many = Array.from({ length: 10_000 }, (_, i): ImportListEntry => ({
      status: i % 3 === 0 ? 'Imported' : 'New',
      email: `first.last${i}@example.com`,
      name: `First${i} Last${i}`,
      jumpcloudUsername: i % 3 === 0 ? `first.last${i}` : undefined,
    }));
    expect(encodeImportList(many).length).toBeLessThan(300_000);
  });

  test('--new-first puts New members first, each part by email', () => {
    expect(sortImportList(entries, true).map((e) => e.email)).toEqual(['b@x.io', 'c@x.io', 'a@x.io']);
    expect(sortImportList(entries, false).map((e) => e.email)).toEqual(['a@x.io', 'b@x.io', 'c@x.io']);
  });
});
