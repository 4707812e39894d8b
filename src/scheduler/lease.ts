// The lease a request holds on a ready model while it uses it, and what its end tells the slot:
// a complete answer resets the crash-loop count; a lost connection marks the container suspect,
// so a request granted after that may be sent again if the container turns out dead.
import { recordServed } from './crash-backoff.js';
import type { Lease, LeaseOutcome, Slot } from './scheduler-context.js';

/**
 * A lease on `slot`, which must be able to serve; `afterRelease` runs once when it ends.
 * `fromQueue`: granted to a request that had waited in the queue, not as it arrived.
 */
export function grantLease(slot: Slot, fromQueue: boolean, afterRelease: (slot: Slot) => void): Lease {
  slot.beginRequest();
  const abort = new AbortController();
  slot.leaseAborts.add(abort);
  const containerId = slot.containerId!;
  let released = false;
  return {
    model: slot.model,
    endpoint: slot.endpoint!,
    containerId,
    signal: abort.signal,
    fromQueue,
    grantedAfterFailure: slot.connectionLostOn === containerId,
    release: (outcome?: LeaseOutcome) => {
      if (released) return;
      released = true;
      slot.leaseAborts.delete(abort);
      // Only about the container this request used: after a crash the slot holds another one.
      if (slot.containerId === containerId) {
        if (outcome === 'served') slot.failures = recordServed(slot.failures);
        else if (outcome === 'broken') slot.connectionLostOn = containerId;
      }
      slot.endRequest();
      afterRelease(slot);
    },
  };
}
