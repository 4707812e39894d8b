// A request's cancellation that costs nothing until something waits on it. Every proxied request
// can be cancelled (its client leaves), but only a request that waits (in a model's queue, for a
// load) needs an AbortSignal to listen to; creating an AbortController per request was a
// measurable share of the proxy's CPU. `signal` builds one on first use, already aborted when the
// cancellation came first.

export class LazyAbort {
  private controller?: AbortController;
  private why?: Error;
  private listeners?: ((reason: Error) => void)[];

  get aborted(): boolean {
    return this.why !== undefined;
  }

  get reason(): Error | undefined {
    return this.why;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.why) this.controller.abort(this.why);
    }
    return this.controller.signal;
  }

  /** Cancels once; later calls change nothing. */
  abort(reason: Error): void {
    if (this.why) return;
    this.why = reason;
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener(reason);
  }

  /** Calls `listener` once on abort (not when already aborted); returns what removes it. */
  onAbort(listener: (reason: Error) => void): () => void {
    (this.listeners ??= []).push(listener);
    return () => {
      const at = this.listeners?.indexOf(listener) ?? -1;
      if (at !== -1) this.listeners!.splice(at, 1);
    };
  }
}

/**
 * Calls `listener` with the reason when `cancel` fires; returns what removes it. A LazyAbort
 * keeps a plain callback (no AbortSignal is created for a request that waits in a queue).
 */
export function whenCancelled(cancel: Cancellation, listener: (reason: unknown) => void): () => void {
  if (cancel instanceof LazyAbort) return cancel.onAbort(listener);
  const onAbort = () => listener(cancel.reason);
  cancel.addEventListener('abort', onAbort, { once: true });
  return () => cancel.removeEventListener('abort', onAbort);
}

/** What a caller may pass to say "stop when this fires": an AbortSignal, or a LazyAbort. */
export type Cancellation = AbortSignal | LazyAbort;
