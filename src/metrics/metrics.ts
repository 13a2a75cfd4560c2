// strata's Prometheus metrics (prom-client), on a registry of their own so
// nothing else a library registers is exported by accident.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the store holds, read at each scrape. */
export interface StoreFigures {
  snapshots: Record<'active' | 'committed' | 'view', number>;
  blobs: number;
  ingests: number;
  /** Bytes on disk by kind: committed snapshots (as measured at Commit), blobs, the metadata database. */
  diskBytes: Record<'snapshots' | 'content' | 'metadata', number>;
}

export class Metrics {
  readonly registry = new Registry();
  readonly rpcs = new Counter({
    name: 'strata_grpc_requests_total',
    help: 'gRPC calls finished, by service, method and status code',
    labelNames: ['service', 'method', 'code'] as const,
    registers: [this.registry],
  });
  readonly rpcSeconds = new Histogram({
    name: 'strata_grpc_request_duration_seconds',
    help: 'gRPC call durations, by service and method',
    labelNames: ['service', 'method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly appliedBytes = new Counter({ name: 'strata_diff_applied_bytes_total', help: 'Uncompressed layer bytes applied', registers: [this.registry] });
  readonly ingestedBytes = new Counter({ name: 'strata_content_ingested_bytes_total', help: 'Bytes written to ingests', registers: [this.registry] });
  readonly readBytes = new Counter({ name: 'strata_content_read_bytes_total', help: 'Blob bytes sent by Read', registers: [this.registry] });
  readonly appliesInFlight = new Gauge({ name: 'strata_diff_applies_in_flight', help: 'Applies running or waiting their turn', registers: [this.registry] });
  readonly ingestsInFlight = new Gauge({ name: 'strata_content_writes_in_flight', help: 'Write streams open', registers: [this.registry] });
  readonly gcRuns = new Counter({ name: 'strata_gc_runs_total', help: "Runs of strata's collector (gc.mode = labels)", registers: [this.registry] });
  readonly gcFreedBytes = new Counter({ name: 'strata_gc_freed_bytes_total', help: "Bytes freed by strata's collector", registers: [this.registry] });

  readonly mirrorLocalBytes = new Counter({ name: 'strata_mirror_local_bytes_total', help: 'Bytes the mirror served from the local store', registers: [this.registry] });
  readonly mirrorPeerBytes = new Counter({ name: 'strata_mirror_peer_bytes_total', help: 'Bytes the mirror served from peers, verified', registers: [this.registry] });
  readonly mirrorUpstreamFallbacks = new Counter({
    name: 'strata_mirror_upstream_fallbacks_total',
    help: 'Requests the mirror answered 404, so that containerd went to the next host',
    registers: [this.registry],
  });
  readonly mirrorDigestMismatches = new Counter({ name: 'strata_mirror_digest_mismatches_total', help: 'Blobs from peers whose bytes did not match their digest', registers: [this.registry] });
  readonly mirrorPeerErrors = new Counter({ name: 'strata_mirror_peer_errors_total', help: 'Failed requests to peers, by peer', labelNames: ['peer'] as const, registers: [this.registry] });

  private figures: StoreFigures | undefined;

  constructor(figures: () => StoreFigures) {
    collectDefaultMetrics({ register: this.registry, prefix: 'strata_' });
    // One read of the store per scrape (see scrape()), shared by the gauges below.
    const read = () => (this.figures ??= figures());
    const storeGauge = (name: string, help: string, labelNames: string[], set: (gauge: Gauge, figures: StoreFigures) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          set(this, read());
        },
      });
    const byKind = (gauge: Gauge, counts: Record<string, number>) => {
      for (const [kind, n] of Object.entries(counts)) gauge.set({ kind }, n);
    };
    storeGauge('strata_snapshots', 'Snapshots, by kind', ['kind'], (gauge, figures) => byKind(gauge, figures.snapshots));
    storeGauge('strata_blobs', 'Committed blobs', [], (gauge, figures) => gauge.set(figures.blobs));
    storeGauge('strata_ingests', 'Ingests open (started, not committed or aborted)', [], (gauge, figures) => gauge.set(figures.ingests));
    storeGauge('strata_disk_usage_bytes', 'Bytes on disk, by kind', ['kind'], (gauge, figures) => byKind(gauge, figures.diskBytes));
  }

  /**
   * Layer sharing's counts (unpack/layer-sharing.ts), read at each scrape:
   * Prepares answered with a layer strata held, and early unpacks by how
   * they ended.
   */
  watchLayerSharing(read: () => { offered: number; bytesShared: number; secondsSaved: number; adopted: number; earlyHandedOver: number; earlyDropped: number }): void {
    const counter = (name: string, help: string, value: () => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(value());
        },
      });
    counter('strata_layers_offered_total', "Prepares from containerd's unpacker answered with a layer strata had unpacked (AlreadyExists)", () => read().offered);
    counter('strata_layer_bytes_shared_total', 'Disk usage of the layers offered so: the bytes not unpacked again', () => read().bytesShared);
    counter(
      'strata_layer_seconds_saved_total',
      'How long the layers offered so took to unpack first (Prepare to Commit, their fetch included, or the apply of an early unpack): the time the clients offered them did not spend',
      () => read().secondsSaved,
    );
    counter('strata_layers_adopted_total', "Applies that took the tree of the layer's early unpack instead of unpacking it", () => read().adopted);
    new Counter({
      name: 'strata_early_unpacks_total',
      help: 'Layers unpacked ahead of containerd, by how it ended: handed over (committed for an offer, or adopted by an Apply), or dropped (not claimed in time, or a result that would differ from a sequential unpack)',
      labelNames: ['result'],
      registers: [this.registry],
      collect() {
        const figures = read();
        this.reset();
        this.inc({ result: 'handed-over' }, figures.earlyHandedOver);
        this.inc({ result: 'dropped' }, figures.earlyDropped);
      },
    });
  }

  /** The Prometheus text of every metric, with the store read once for it. */
  async scrape(): Promise<string> {
    try {
      return await this.registry.metrics();
    } finally {
      this.figures = undefined;
    }
  }
}
