// V8's allocation-site pretenuring, turned off for the server (startServer calls this first).
//
// V8 watches each object and array literal in the code: when nearly all the objects one literal
// made are still alive at a young-generation GC (a scavenge), it decides that literal makes
// long-lived objects and from then on allocates them straight in the old generation; the decision
// is never taken back. A proxy's per-request objects are short-lived, but one moment where most of
// them are alive at a scavenge (a burst of concurrent requests, start-up) is enough. After it,
// those literals' per-request objects (in swapdock, in Node's HTTP code, in undici) are born old
// and die old, and until the next full GC a dead old object still holds on to what it points to
// for every scavenge: the young rest of its request (closures, the Node request and response,
// headers, buffers) survives two scavenges and is copied into the old generation as well.
//
// Measured with the bench driver (--trace-gc-nvp, 1 connection, after the bench's 64-connection
// warm-up): about 4.5 KB promoted per request and 8–15 ms scavenges with pretenuring, about
// 0.6–0.9 KB and 2 ms scavenges without; at 64 connections the proxy also spends less CPU per
// request. Objects that really live long (the log tail, the request history) are promoted all
// the same, by the scavenger, after surviving twice.
import v8 from 'node:v8';

export const GC_FLAGS = '--no-allocation-site-pretenuring';

/**
 * Applies GC_FLAGS to this process. Call before serving: decisions V8 has already taken stay.
 * Idempotent. (Node lets V8 flags change after start-up; the unit test checks that this one
 * still takes effect.)
 */
export function tuneGarbageCollector(): void {
  v8.setFlagsFromString(GC_FLAGS);
}
