// strata bench: every arm, in one process, on the same inputs, interleaved
// (each repetition runs every arm once, in a rotating order), so that ratios
// are fair on a noisy machine. Inputs are made first and servers started
// before anything is timed.
import fs from 'node:fs';
import path from 'node:path';
import type { Compression } from '../src/diff/compression';
import { connect, type StrataClient } from '../src/client/connect';
import { startContainerdStack } from './containerd-stack';
import { startContainerd, type Containerd } from './harness/containerd';
import { startStrata, type Strata } from './harness/strata';
import { generatedImages, userImage, type InputImage } from './inputs/materialize';
import { ImportArm, MirrorPullArm, PullArm, RemovalArm, SecondNamespacePullArm } from './arms/containerd';
import { CliDecompressArm, TarLimitArm } from './arms/command-line';
import { FirstContainerArm, RunnableImages } from './arms/first-container';
import { NodeStagesArm } from './arms/node-stages';
import { ReferenceArm } from './arms/reference';
import { StrataApplyArm } from './arms/strata-apply';
import { makeBlob, measureContent } from './content-throughput';
import { describeMachine } from './machine';
import { REPORT_FORMAT, type ContentScenario, type Group, type Measurement, type Report, type Sample, type SnapshotScenario, type Stack } from './model';
import { buildPullClient, buildReference } from './reference-build';
import { summarise } from './report/summarise';
import { Services } from './services';
import { killCommands } from './harness/processes';
import { buildChain, figures, OPERATIONS, removeChain, runRounds, type Latencies, type SnapshotTarget } from './snapshot-ops';
import { summarize } from './stats';
import { canDropCaches, dropCaches, ioStallSeconds } from './system';

/** Untimed snapshot rounds and content MiB per server before the timed ones. */
const WARM_UP_ROUNDS = 50;
const WARM_UP_MIB = 16;

export const GROUPS: readonly Group[] = ['unpack', 'containerd', 'decompress', 'snapshots', 'content'];

/**
 * The comparison clients' HTTP/2 window: containerd's Go client grows its own
 * by BDP estimation to megabytes, where grpc-js would stay at 64 KiB.
 */
const CLIENT_WINDOW = 8 << 20;

export interface SuiteOptions {
  workDir: string;
  repetitions: number;
  /** Generated images by name, at this scale (1 is full size). */
  images: string[];
  scale: number;
  compressions: Compression[];
  /** Images the user named: any reference the image sources take. */
  userImages: string[];
  plainHttp: boolean;
  groups: Group[];
  dropCaches: boolean;
  /** The containerd every containerd arm and comparison runs (its ctr beside it); Debian's, on PATH, when absent. */
  containerd?: string;
  /** A containerd already running, for the containerd arms instead of starting one (the comparisons still start theirs). */
  containerdAddress?: string;
  /** HOST[:PORT][/PATH]: the user's registry, for the containerd arms' pulls instead of a docker-registry of the bench's own. */
  registry?: string;
  /** The containerd arms', each run on the same inputs: built-in ones and strata. */
  snapshotters: string[];
  snapshotDepths: number[];
  snapshotClients: number[];
  snapshotRounds: number;
  contentWriters: number[];
  contentMiB: number;
}

export interface Progress {
  start(total: number): void;
  step(label: string): void;
  stop(): void;
}

interface UnpackArm {
  readonly name: string;
  run(input: InputImage, rep: number): Promise<Sample & { entries?: number; bytes?: number }>;
}

interface ArmSet {
  group: Group;
  arms: UnpackArm[];
}

async function makeInputs(options: SuiteOptions): Promise<InputImage[]> {
  const dir = path.join(options.workDir, 'inputs');
  await fs.promises.mkdir(dir, { recursive: true });
  const inputs: InputImage[] = [];
  for (const image of options.images) inputs.push(...(await generatedImages(dir, image, options.compressions, options.scale)));
  for (const reference of options.userImages) inputs.push(await userImage(dir, reference, { plainHttp: options.plainHttp }));
  return inputs;
}

async function unpackArms(options: SuiteOptions, services: Services, scratch: string): Promise<ArmSet[]> {
  const sets: ArmSet[] = [];
  const needsReference = options.groups.includes('unpack') || options.groups.includes('decompress');
  const reference = needsReference ? await buildReference(options.workDir) : '';
  if (options.groups.includes('unpack')) {
    const arms: UnpackArm[] = [];
    // Only overlayfs can move a layer unpacked alone onto the layers beneath (canRebase).
    for (const [backend, order] of [['overlayfs', 'one after another'], ['overlayfs', 'in parallel'], ['native', 'one after another']] as const) {
      const arm = await StrataApplyArm.start(options.workDir, backend, order);
      services.add(() => arm.close());
      arms.push(arm);
    }
    arms.push(new ReferenceArm(reference, scratch, 'apply', 'overlay'), new ReferenceArm(reference, scratch, 'apply', 'native'), new TarLimitArm(scratch));
    sets.push({ group: 'unpack', arms });
  }
  if (options.groups.includes('decompress')) {
    sets.push({
      group: 'decompress',
      arms: [new NodeStagesArm('decompress'), new NodeStagesArm('parse'), new CliDecompressArm(), new ReferenceArm(reference, scratch, 'decompress'), new ReferenceArm(reference, scratch, 'parse')],
    });
  }
  return sets;
}

async function containerdArms(options: SuiteOptions, services: Services): Promise<{ sets: ArmSet[]; stack?: Stack }> {
  if (!options.groups.includes('containerd')) return { sets: [] };
  const { targets, description, registry, mirror } = await startContainerdStack(options, services);
  const runnable = new RunnableImages(path.join(options.workDir, 'inputs'), registry);
  const pullClient = await buildPullClient(options.workDir);
  const arms = [
    ...targets.flatMap((target) => [
      new ImportArm(target, true),
      new ImportArm(target, false),
      new PullArm(target, registry),
      new FirstContainerArm(target, runnable),
      new SecondNamespacePullArm(target, registry, pullClient),
      new RemovalArm(target, registry),
    ]),
    ...(mirror ? [new MirrorPullArm(mirror.target, registry, mirror.hostsDir, mirror.peerSocket)] : []),
  ];
  return { sets: [{ group: 'containerd', arms }], stack: description };
}

/** Snapshot and content scenarios compare strata with containerd's own services: one of each. */
async function comparisonTargets(options: SuiteOptions, services: Services): Promise<{ strata: StrataClient; containerd: StrataClient } | undefined> {
  if (!options.groups.includes('snapshots') && !options.groups.includes('content')) return undefined;
  const dir = path.join(options.workDir, 'services');
  await fs.promises.rm(dir, { recursive: true, force: true });
  await fs.promises.mkdir(dir, { recursive: true });
  const strata: Strata = await startStrata({ root: path.join(dir, 'strata-root'), address: path.join(dir, 'strata.sock'), backend: 'overlayfs', logFile: path.join(dir, 'strata.log') });
  services.add(() => strata.stop());
  const containerd: Containerd = await startContainerd({}, { namespace: 'strata-bench', parentDir: dir, garbageCollection: 'on-deletion', binary: options.containerd });
  services.add(() => containerd.stop());
  const strataClient = connect(strata.options.address, { flowControlWindow: CLIENT_WINDOW });
  // containerd collects garbage after deletions: blobs written outside a
  // lease could go before they are read back, as they would for any client.
  const lease = 'strata-bench';
  await containerd.ctr(['leases', 'create', '--id', lease]);
  const containerdClient = connect(containerd.address, { namespace: containerd.namespace, lease, flowControlWindow: CLIENT_WINDOW });
  services.add(async () => {
    strataClient.close();
    containerdClient.close();
  });
  return { strata: strataClient, containerd: containerdClient };
}

function rotate<T>(items: T[], by: number): T[] {
  if (items.length === 0) return items;
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export async function runSuite(options: SuiteOptions, progress: Progress): Promise<Report> {
  const startedAt = new Date();
  const dropping = options.dropCaches && (await canDropCaches());
  if (options.dropCaches && !dropping) throw new Error('--drop-caches needs to write /proc/sys/vm/drop_caches (run as root)');
  const services = new Services();
  // An interrupted run ends the commands it is running and starts no more,
  // then stops what it started (servers, mounts, containerd), removes what
  // it made in the user's containerd, and exits with the signal's code.
  let interruption: Promise<never> | undefined;
  const interrupted = (signal: NodeJS.Signals) => {
    progress.stop();
    interruption = (async () => {
      await killCommands();
      await services.stopAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    })();
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const scratch = path.join(options.workDir, 'scratch');
    await fs.promises.mkdir(scratch, { recursive: true });
    // The containerd stack first: one that cannot start fails before anything else runs.
    const { sets: containerdSets, stack } = await containerdArms(options, services);
    const inputs = options.groups.some((g) => g === 'unpack' || g === 'containerd' || g === 'decompress') ? await makeInputs(options) : [];
    const armSets = [...(await unpackArms(options, services, scratch)), ...containerdSets];
    const targets = await comparisonTargets(options, services);
    for (const set of armSets) for (const arm of set.arms) if (arm instanceof StrataApplyArm) for (const input of inputs) await arm.upload(input);

    const snapshotCases = options.groups.includes('snapshots') ? options.snapshotDepths.flatMap((depth) => options.snapshotClients.map((clients) => ({ depth, clients }))) : [];
    const contentCases = options.groups.includes('content') ? options.contentWriters : [];
    const armCount = armSets.reduce((sum, set) => sum + set.arms.length, 0);
    progress.start(options.repetitions * (inputs.length * armCount + 2 * (snapshotCases.length + contentCases.length)));

    const measurements = new Map<string, { group: Group; arm: string; input: InputImage; samples: Measurement['samples'] }>();
    const record = (group: Group, arm: string, input: InputImage, sample: Sample & { entries?: number; bytes?: number }) => {
      const id = `${group}\0${arm}\0${input.id}`;
      // Images the user named learn their sizes from the arms that read them
      // whole; every arm's figures for that image then use them.
      if (sample.bytes) input.uncompressedSize = sample.bytes;
      if (sample.entries) input.entries = sample.entries;
      const m = measurements.get(id) ?? { group, arm, input, samples: [] };
      const { entries: _entries, bytes: _bytes, ...kept } = sample;
      m.samples.push(kept);
      measurements.set(id, m);
    };
    const latencies = new Map<string, { target: 'strata' | 'containerd'; depth: number; clients: number; runs: Latencies[] }>();
    const content = new Map<string, { target: 'strata' | 'containerd'; writers: number; write: number[]; read: number[] }>();

    // Untimed calls first, so that neither server's figures include its JIT's warm-up.
    if (targets) {
      for (const target of ['strata', 'containerd'] as const) {
        if (snapshotCases.length > 0) {
          const snapshots: SnapshotTarget = { client: targets[target].snapshots, snapshotter: target === 'strata' ? 'strata' : 'overlayfs' };
          const chain = await buildChain(snapshots, 'bench-warm-up', 1);
          await runRounds(snapshots, 'bench-warm-up', chain[0], 1, WARM_UP_ROUNDS);
          await removeChain(snapshots, chain);
        }
        if (contentCases.length > 0) await measureContent(targets[target].content, [makeBlob(WARM_UP_MIB)]);
      }
    }

    for (let rep = 0; rep < options.repetitions; rep++) {
      for (const input of inputs) {
        for (const set of rotate(armSets, rep)) {
          for (const arm of rotate(set.arms, rep)) {
            progress.step(`${arm.name}: ${input.id} (${rep + 1}/${options.repetitions})`);
            if (dropping) await dropCaches();
            const stalledBefore = ioStallSeconds();
            const sample = await arm.run(input, rep);
            const stalledAfter = ioStallSeconds();
            if (stalledBefore !== undefined && stalledAfter !== undefined) sample.ioStallSeconds = stalledAfter - stalledBefore;
            record(set.group, arm.name, input, sample);
          }
        }
      }
      if (!targets) continue;
      const order = rotate(['strata', 'containerd'] as const, rep) as ('strata' | 'containerd')[];
      for (const { depth, clients } of snapshotCases) {
        for (const target of order) {
          progress.step(`snapshots ${target}: depth ${depth}, ${clients} client(s) (${rep + 1}/${options.repetitions})`);
          const snapshots: SnapshotTarget = { client: targets[target].snapshots, snapshotter: target === 'strata' ? 'strata' : 'overlayfs' };
          const prefix = `bench-r${rep}-d${depth}-c${clients}`;
          const chain = await buildChain(snapshots, prefix, depth);
          const run = await runRounds(snapshots, prefix, chain[chain.length - 1], clients, Math.max(1, Math.round(options.snapshotRounds / clients)));
          await removeChain(snapshots, chain);
          const key = `${target}-${depth}-${clients}`;
          const entry = latencies.get(key) ?? { target, depth, clients, runs: [] };
          entry.runs.push(run);
          latencies.set(key, entry);
        }
      }
      for (const writers of contentCases) {
        for (const target of order) {
          progress.step(`content ${target}: ${writers} writer(s) (${rep + 1}/${options.repetitions})`);
          const blobs = Array.from({ length: writers }, () => makeBlob(options.contentMiB));
          const result = await measureContent(targets[target].content, blobs);
          const key = `${target}-${writers}`;
          const entry = content.get(key) ?? { target, writers, write: [], read: [] };
          entry.write.push(result.writeMiBPerSecond);
          entry.read.push(result.readMiBPerSecond);
          content.set(key, entry);
        }
      }
    }
    progress.stop();

    const snapshots: SnapshotScenario[] = [...latencies.values()].map(({ target, depth, clients, runs }) => {
      const wall = runs.reduce((sum, r) => sum + r.wallSeconds, 0);
      const pooled = (op: string) => runs.flatMap((r) => r.byOperation[op as keyof Latencies['byOperation']]);
      return {
        target,
        depth,
        clients,
        operations: Object.fromEntries(OPERATIONS.map((op) => [op, figures(pooled(op), wall)])),
        round: figures(pooled('round'), wall),
        roundP50MsPerRepetition: summarize(runs.map((r) => figures(r.byOperation.round, r.wallSeconds).p50Ms)),
      };
    });
    const contentScenarios: ContentScenario[] = [...content.values()].map(({ target, writers, write, read }) => ({
      target,
      writers,
      blobMiB: options.contentMiB,
      writeMiBPerSecond: summarize(write),
      readMiBPerSecond: summarize(read),
    }));
    const { measurements: summarised, ratios } = summarise(
      [...measurements.values()].map(({ group, arm, input, samples }) => ({
        group,
        arm,
        subject: input.image,
        compression: input.compression,
        bytes: input.uncompressedSize,
        files: input.entries,
        samples,
      })),
      snapshots,
      contentScenarios,
      options.snapshotters,
    );
    return {
      format: REPORT_FORMAT,
      startedAt: startedAt.toISOString(),
      seconds: (Date.now() - startedAt.getTime()) / 1000,
      // The containerd the arms ran on, as it says, when they ran.
      machine: { ...(await describeMachine(options.workDir, options.containerd ?? 'containerd')), ...(stack ? { containerd: stack.containerd.server } : {}) },
      options: { ...options },
      measurements: summarised,
      snapshots,
      content: contentScenarios,
      ratios,
      stack,
    };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    progress.stop();
    // Interrupted, the run ends in its handler: what the killed commands failed is not the run's failure.
    await (interruption ?? services.stopAll());
  }
}
