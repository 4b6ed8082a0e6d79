/** Issue 17: reading a worker's Prometheus text in tests. */

/** The samples of one metric, by their label sets (`service="notion",status="200"`; none: ''). */
export function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`).exec(line);
    if (match) found.set(match[1] ?? '', Number(match[2]));
  }
  return found;
}
