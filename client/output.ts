/**
 * Printing for commands: human text on a terminal, one JSON document with `--json`. Everything a
 * command prints goes through here (a lint rule says so), because names and service errors come
 * from directories anyone can write to: a terminal escape sequence could rewrite the screen, and a
 * bidirectional override or a zero-width character could make one name read as another (issue 16).
 */
export interface OutputOptions {
  json?: boolean;
}

/**
 * C0 and C1 controls (but line feed and tab), DEL, bidirectional marks, embeddings, overrides and
 * isolates, zero-width characters and the byte-order mark.
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** `\u{202e}` for each unsafe character: shown, never obeyed. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (char) => `\\u{${char.codePointAt(0)!.toString(16)}}`);
}

/** The same JSON, with the characters JSON leaves raw (bidi, zero-width) as `\uXXXX` escapes. */
export function jsonSafe(json: string): string {
  return json.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${jsonSafe(JSON.stringify(value, null, 2))}\n`);
}

export function printLines(lines: string[]): void {
  process.stdout.write(`${lines.map(terminalSafe).join('\n')}\n`);
}

/** One line on stderr (progress, warnings, the one-line reason of a failure). */
export function printError(line: string): void {
  process.stderr.write(`${terminalSafe(line)}\n`);
}

/** `key: value` rows, aligned. */
export function table(rows: [string, string][], indent = '  '): string[] {
  const width = Math.max(0, ...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${indent}${key.padEnd(width)}  ${value}`);
}
