// Everything a run started (servers, mounts, containerds, what it made in
// someone else's containerd or registry), stopped at the end whatever
// happens: also when the run is interrupted.

export class Services {
  private readonly stops: (() => Promise<void>)[] = [];
  private stopping: Promise<void> | undefined;

  add(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  /** Stops everything, the last started first; a second call waits for the first's stops instead of running them again. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const stop of [...this.stops].reverse()) await stop().catch(() => undefined);
    })();
    return this.stopping;
  }
}
