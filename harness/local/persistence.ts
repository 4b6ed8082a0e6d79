/**
 * The emulators' half of `jc-notion local --data-dir` (SPEC §8; Temporal keeps its own database
 * there): each emulator's state is restored from `<dir>/<name>.json` when the stack starts, and
 * saved there atomically (a temporary file in the same folder, then a rename) when it stops and,
 * while it runs, every 10 seconds if it changed, so that a crash loses little.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** What the JumpCloud and Notion emulators offer for this. */
export interface PersistentEmulator {
  snapshot(): unknown;
  restore(snapshot: unknown): void;
  revision(): number;
}

export interface PersistedEmulator {
  /** For messages, e.g. `JumpCloud emulator`. */
  label: string;
  file: string;
  emulator: PersistentEmulator;
}

export const SAVE_INTERVAL_MS = 10_000;

/** Why a saved state cannot be restored (the message names the file and the problem). */
export class RestoreError extends Error {
  override name = 'RestoreError';
}

/**
 * Restores the emulator from its file; false when there is no file. An unreadable, malformed or
 * foreign file is a `RestoreError` and leaves the emulator as it was.
 */
export function restoreEmulator(target: PersistedEmulator): boolean {
  let text: string;
  try {
    text = fs.readFileSync(target.file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new RestoreError(`cannot read the ${target.label}'s state ${target.file}: ${messageOf(error)}`);
  }
  const advice = 'repair it, or move it away to start the emulator afresh';
  let snapshot: unknown;
  try {
    snapshot = JSON.parse(text);
  } catch (error) {
    throw new RestoreError(
      `cannot restore the ${target.label} from ${target.file}: not valid JSON (${messageOf(error)}); ${advice}`,
    );
  }
  try {
    target.emulator.restore(snapshot);
  } catch (error) {
    throw new RestoreError(
      `cannot restore the ${target.label} from ${target.file}: ${messageOf(error)}; ${advice}`,
    );
  }
  return true;
}

/** Writes a temporary file next to `file`, flushes it, then renames it over `file`. */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  const temporary = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const handle = await fs.promises.open(temporary, 'wx');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temporary, file);
  } catch (error) {
    await fs.promises.rm(temporary, { force: true });
    throw error;
  }
}

export interface SnapshotSaver {
  /** Saves the emulators whose state changed since they were last saved (or restored). */
  save(): Promise<void>;
  /** Stops the periodic saves and saves a last time. */
  stop(): Promise<void>;
}

/**
 * Saves every `intervalMs` the emulators whose revision moved; `restored` ones start as saved
 * (their file holds their state), the others are saved at the first tick.
 */
export function startSnapshotSaver(
  targets: readonly PersistedEmulator[],
  options: {
    restored: ReadonlySet<PersistedEmulator>;
    onError: (line: string) => void;
    intervalMs?: number;
  },
): SnapshotSaver {
  const saved = new Map<PersistedEmulator, number>();
  for (const target of options.restored) saved.set(target, target.emulator.revision());
  let running: Promise<void> = Promise.resolve();

  const saveChanged = async () => {
    for (const target of targets) {
      const revision = target.emulator.revision();
      if (saved.get(target) === revision) continue;
      try {
        // The snapshot is taken at once (no await in between), so it matches `revision`.
        const text = `${JSON.stringify(target.emulator.snapshot(), null, 1)}\n`;
        await writeFileAtomically(target.file, text);
        saved.set(target, revision);
      } catch (error) {
        options.onError(`could not save the ${target.label}'s state to ${target.file}: ${messageOf(error)}`);
      }
    }
  };
  /** One save at a time: a save asked for during another runs after it. */
  const save = () => (running = running.then(saveChanged));

  const timer = setInterval(() => void save(), options.intervalMs ?? SAVE_INTERVAL_MS);
  timer.unref();
  return {
    save,
    stop: async () => {
      clearInterval(timer);
      await save();
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
