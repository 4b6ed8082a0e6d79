/** The API queues' activity slots (worker/slots.ts), pure. */
import { ParkingSlots } from '../../worker/slots';

const reserveCtx = {
  slotType: 'activity',
  taskQueue: 'q',
  workerIdentity: 'w',
  workerBuildId: '',
  isSticky: false,
} as const;

test('issue 15: slots up to capacity are reserved at once; the next waits for a release', async () => {
  const slots = new ParkingSlots(2);
  const never = new AbortController().signal;
  await slots.reserveSlot(reserveCtx, never);
  expect(slots.tryReserveSlot(reserveCtx)).not.toBeNull();
  expect(slots.tryReserveSlot(reserveCtx)).toBeNull();
  let granted = false;
  const third = slots.reserveSlot(reserveCtx, never).then(() => (granted = true));
  await Promise.resolve();
  expect(granted).toBe(false);
  slots.releaseSlot();
  await third;
  expect(slots.inUse).toBe(2);
});

test('issue 15: an activity waiting for a permit hands its slot back, and takes it again (above capacity if need be) when the permit comes', async () => {
  const slots = new ParkingSlots(1);
  const never = new AbortController().signal;
  await slots.reserveSlot(reserveCtx, never);
  let permit!: () => void;
  const parked = slots.park(new Promise<void>((resolve) => (permit = resolve)));
  // The worker polls again: the permit's own activity can run.
  await slots.reserveSlot(reserveCtx, never);
  expect(slots.inUse).toBe(1);
  permit();
  await parked;
  expect(slots.inUse).toBe(2);
  slots.releaseSlot();
  slots.releaseSlot();
  expect(slots.inUse).toBe(0);
});

test('issue 15: a reservation the SDK aborts is withdrawn with its reason', async () => {
  const slots = new ParkingSlots(1);
  await slots.reserveSlot(reserveCtx, new AbortController().signal);
  const abort = new AbortController();
  const waiting = slots.reserveSlot(reserveCtx, abort.signal);
  abort.abort(new Error('poller gone'));
  await expect(waiting).rejects.toThrow('poller gone');
  slots.releaseSlot();
  expect(slots.inUse).toBe(0);
});
