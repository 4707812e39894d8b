// The lease a request holds on a ready model while it uses it, and what its end tells the slot:
// a complete answer resets the crash-loop count; a lost connection marks the container suspect,
// so a request granted after that may be sent again if the container turns out dead.
// A lease is revoked when its model goes away under it (forced unload, crash): one plain
// listener, no AbortController per request (the forwarding hot path creates one lease each).
import type { Lease, LeaseOutcome, Slot } from './scheduler-context.js';

/**
 * A lease on `slot`, which must be able to serve; `afterRelease` runs once when it ends.
 * `fromQueue`: granted to a request that had waited in the queue, not as it arrived.
 */
export function grantLease(slot: Slot, fromQueue: boolean, afterRelease: (slot: Slot) => void): Lease {
  slot.beginRequest();
  const lease = new SlotLease(slot, fromQueue, afterRelease);
  slot.leases.add(lease);
  return lease;
}

class SlotLease implements Lease {
  readonly model;
  readonly endpoint;
  readonly containerId: string;
  readonly grantedAfterFailure: boolean;
  revoked: Error | undefined;
  private listener: ((reason: Error) => void) | undefined;
  private released = false;

  constructor(
    private readonly slot: Slot,
    readonly fromQueue: boolean,
    private readonly afterRelease: (slot: Slot) => void,
  ) {
    this.model = slot.model;
    this.endpoint = slot.endpoint!;
    this.containerId = slot.containerId!;
    this.grantedAfterFailure = slot.connectionLostOn === this.containerId;
  }

  onRevoke(listener: ((reason: Error) => void) | undefined): void {
    this.listener = listener;
    if (listener && this.revoked) listener(this.revoked);
  }

  revoke(reason: Error): void {
    if (this.revoked || this.released) return;
    this.revoked = reason;
    const listener = this.listener;
    this.listener = undefined;
    listener?.(reason);
  }

  release(outcome?: LeaseOutcome): void {
    if (this.released) return;
    this.released = true;
    this.listener = undefined;
    const slot = this.slot;
    slot.leases.delete(this);
    // Only about the container this request used: after a crash the slot holds another one.
    slot.recordOutcome(this.containerId, outcome);
    slot.endRequest();
    this.afterRelease(slot);
  }
}
