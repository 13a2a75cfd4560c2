// A wall clock with nanosecond resolution. Date.now() only has milliseconds,
// and containerd clients compare our created/updated times against their own
// nanosecond clocks, so a truncated time can appear to lie in the past.
// We anchor the monotonic clock to the instant Date.now() ticks over and
// re-anchor whenever the two drift apart by a millisecond (NTP slewing).

/** Nanoseconds since the Unix epoch. */
export type Nanos = bigint;

const NS_PER_MS = 1_000_000n;

let anchorWallNs = 0n;
let anchorMonoNs = 0n;

// The tick of Date.now() happened between the previous sample's first
// hrtime read and this sample's last one. Anchoring at the earlier read means
// we can only run late, by at most the bracket, never early; a bracket that
// got wide because we were preempted is thrown away and the next tick used.
const MAX_BRACKET_NS = 20_000n;

function anchor(): void {
  let previousBefore = process.hrtime.bigint();
  let previousMs = Date.now();
  for (;;) {
    const before = process.hrtime.bigint();
    const ms = Date.now();
    const after = process.hrtime.bigint();
    if (ms !== previousMs && after - previousBefore <= MAX_BRACKET_NS) {
      anchorMonoNs = previousBefore;
      anchorWallNs = BigInt(ms) * NS_PER_MS;
      return;
    }
    previousBefore = before;
    previousMs = ms;
  }
}

export function nowNs(): Nanos {
  if (anchorWallNs === 0n) anchor();
  let now = anchorWallNs + (process.hrtime.bigint() - anchorMonoNs);
  const driftMs = Number(now / NS_PER_MS) - Date.now();
  if (driftMs > 1 || driftMs < -1) {
    anchor();
    now = anchorWallNs + (process.hrtime.bigint() - anchorMonoNs);
  }
  return now;
}
