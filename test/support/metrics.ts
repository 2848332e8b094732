/** The gateway's /metrics as text. */
export async function scrape(managementUrl: string): Promise<string> {
  return (await fetch(`${managementUrl}/metrics`)).text();
}

/** One sample of a scrape, by its series exactly as printed (`name{label="v"}`); NaN when absent. */
export function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return Number(line?.split(' ')[1] ?? NaN);
}
