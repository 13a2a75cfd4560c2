// Prometheus text, as the tests scrape it from strata's /metrics.

/** Sample name with its labels → value. */
export function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    found.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return found;
}

/** Scrapes http://HOST/metrics. */
export async function scrape(host: string): Promise<Map<string, number>> {
  const response = await fetch(`http://${host}/metrics`);
  if (response.status !== 200) throw new Error(`GET http://${host}/metrics: ${response.status}`);
  return samples(await response.text());
}
