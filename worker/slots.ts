/**
 * Activity slots for the workers of the rate-limited queues (issue 15). An activity there whose
 * dispatch paid for one request and that needs another (a deactivation reads the member, then
 * PATCHes it) waits for a permit, and a permit is a no-op activity dispatched on that same
 * queue. With a fixed number of slots, activities waiting for permits could hold every slot, so
 * that nothing polled the permits they wait for: the queue stopped for good (300 deactivations
 * at once against 100 slots, CI). Here an activity waiting for a permit hands its slot back
 * (`park`) and takes it again when the permit comes, above capacity if it must.
 */
import type {
  ActivitySlotInfo,
  CustomSlotSupplier,
  SlotPermit,
  SlotReleaseContext,
  SlotReserveContext,
  WorkerTuner,
} from '@temporalio/worker';

/** The SDK's defaults for the slot kinds this product does not tune. */
const DEFAULT_SLOTS = { workflow: 40, localActivity: 100, nexus: 100 };

export class ParkingSlots implements CustomSlotSupplier<ActivitySlotInfo> {
  readonly type = 'custom';
  /** Slots reserved (for a poll or a running activity) and not parked. */
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
  }

  /** Slots in use now (parked activities excluded); for tests. */
  get inUse(): number {
    return this.used;
  }

  reserveSlot(_ctx: SlotReserveContext, abortSignal: AbortSignal): Promise<SlotPermit> {
    const permit = this.tryReserveSlot();
    if (permit) return Promise.resolve(permit);
    return new Promise<SlotPermit>((resolve, reject) => {
      const grant = () => {
        abortSignal.removeEventListener('abort', abort);
        this.used += 1;
        resolve({});
      };
      const abort = () => {
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(abortSignal.reason as Error);
      };
      if (abortSignal.aborted) return abort();
      abortSignal.addEventListener('abort', abort, { once: true });
      this.waiting.push(grant);
    });
  }

  tryReserveSlot(_ctx?: SlotReserveContext): SlotPermit | null {
    if (this.used >= this.capacity) return null;
    this.used += 1;
    return {};
  }

  markSlotUsed(): void {}

  releaseSlot(_ctx?: SlotReleaseContext<ActivitySlotInfo>): void {
    this.used -= 1;
    this.wake();
  }

  /** Awaits `waiting` with the calling activity's slot handed back meanwhile. */
  async park<T>(waiting: Promise<T>): Promise<T> {
    this.used -= 1;
    this.wake();
    try {
      return await waiting;
    } finally {
      this.used += 1;
    }
  }

  private wake(): void {
    while (this.used < this.capacity && this.waiting.length > 0) this.waiting.shift()!();
  }
}

/** A worker tuner whose activity slots are `slots`, the other kinds at the SDK's defaults. */
export function tunerWith(slots: ParkingSlots): WorkerTuner {
  return {
    activityTaskSlotSupplier: slots,
    workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: DEFAULT_SLOTS.workflow },
    localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: DEFAULT_SLOTS.localActivity },
    nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: DEFAULT_SLOTS.nexus },
  };
}
