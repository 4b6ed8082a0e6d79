/**
 * An error and its causes, outermost first. Temporal and fetch wrap failures in layers; a chain
 * that loops back on itself (a cause set after the fact) ends the walk instead of spinning.
 */
export function* causeChain(error: unknown): Generator<Readonly<Record<string, unknown>>> {
  const seen = new Set<object>();
  for (let cause = error; typeof cause === 'object' && cause !== null && !seen.has(cause);) {
    seen.add(cause);
    yield cause as Readonly<Record<string, unknown>>;
    cause = (cause as { cause?: unknown }).cause;
  }
}
