// Go's time.ParseDuration, which containerd's collector reads the durations
// of conditional labels with ("usedat<30m"): a sign, then numbers with
// units, "1h30m", "1.5s", "300ms", "2h45m0.5s"; "0" alone needs no unit.
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const PART = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/** The duration in nanoseconds (as a float), or undefined where Go returns an error. */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  while (rest !== '') {
    const part = PART.exec(rest);
    if (!part) return undefined;
    total += Number(part[1]) * UNIT_NS[part[2]];
    rest = rest.slice(part[0].length);
  }
  // Go refuses what overflows an int64 of nanoseconds.
  return total > 2 ** 63 - 1 ? undefined : sign * total;
}
