// From raw samples to the report's figures: summaries per arm and input,
// each unpack's phases (decompress and parse from the stage arms run on the
// same input, write as the rest of the apply, metadata and sync as
// measured), and the ratios that say who is faster: strata against the
// others, and each snapshotter against a reference one.
import { ARM } from '../arm-names';
import { contentSubject, snapshotSubject, type ContentScenario, type Measurement, type Phase, type Ratio, type SnapshotScenario, type SummarisedMeasurement } from '../model';
import { summarize } from '../stats';

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

function phaseMean(m: Measurement, phase: Phase): number | undefined {
  const values = m.samples.map((s) => s.phases?.[phase]).filter((v): v is number => v !== undefined);
  return values.length > 0 ? mean(values) : undefined;
}

/** The snapshotter the others' containerd figures are over: overlayfs, containerd's default, when named, else the first named. */
export function referenceSnapshotter(snapshotters: string[]): string {
  return snapshotters.includes('overlayfs') ? 'overlayfs' : snapshotters[0];
}

export function summarise(
  raw: Measurement[],
  snapshots: SnapshotScenario[],
  content: ContentScenario[],
  /** The containerd arms', in the order named. */
  snapshotters: string[],
): { measurements: SummarisedMeasurement[]; ratios: Ratio[] } {
  const find = (arm: string, of: Measurement) => raw.find((m) => m.arm === arm && m.subject === of.subject && m.compression === of.compression);
  const seconds = (m: Measurement | undefined) => (m ? summarize(m.samples.map((s) => s.seconds)).p50 : undefined);

  const measurements = raw.map((m): SummarisedMeasurement => {
    const summary = summarize(m.samples.map((s) => s.seconds));
    const phases: Partial<Record<Phase, number>> = {};
    // Stage arms time one layer after another: they split only such an apply.
    const stages = m.arm === ARM.strataApply('overlayfs') || m.arm === ARM.strataApply('native') ? 'strata' : m.arm.startsWith('containerd Go') && m.group === 'unpack' ? 'reference' : undefined;
    if (stages) {
      const decompress = find(stages === 'strata' ? ARM.strataStage('decompress') : ARM.referenceStage('decompress'), m);
      const parse = find(stages === 'strata' ? ARM.strataStage('parse') : ARM.referenceStage('parse'), m);
      if (decompress && parse) {
        phases.decompress = mean(decompress.samples.map((s) => s.seconds));
        phases.parse = Math.max(0, mean(parse.samples.map((s) => s.seconds)) - phases.decompress);
        phases.write = Math.max(0, summary.mean - mean(parse.samples.map((s) => s.seconds)));
      }
    }
    for (const phase of ['metadata', 'sync'] as const) {
      const value = phaseMean(m, phase);
      if (value !== undefined) phases[phase] = value;
    }
    const peaks = m.samples.map((s) => s.peakRssBytes).filter((v): v is number => v !== undefined && Number.isFinite(v));
    const stalls = m.samples.map((s) => s.ioStallSeconds).filter((v): v is number => v !== undefined);
    const early = m.samples.map((s) => s.layersUnpackedEarly).filter((v): v is number => v !== undefined);
    const { samples: _samples, ...rest } = m;
    return {
      ...rest,
      seconds: summary,
      phases,
      peakRssBytes: peaks.length > 0 ? Math.max(...peaks) : undefined,
      ioStallSeconds: stalls.length > 0 ? mean(stalls) : undefined,
      layersUnpackedEarly: early.length > 0 ? Math.min(...early) : undefined,
      mbPerSecond: m.bytes ? m.bytes / 1e6 / summary.p50 : undefined,
      filesPerSecond: m.files ? m.files / summary.p50 : undefined,
    };
  });

  const ratios: Ratio[] = [];
  const add = (kind: string, subject: string, time: number | undefined, over: number | undefined) => {
    if (time !== undefined && over !== undefined && over > 0) ratios.push({ kind, subject, ratio: time / over });
  };
  for (const m of raw) {
    const subject = `${m.subject} ${m.compression}`;
    if (m.arm === ARM.strataApply('overlayfs')) {
      add('apply overlayfs: strata / containerd Go', subject, seconds(m), seconds(find(ARM.referenceApply('overlay'), m)));
      add('apply overlayfs: strata / tar -x', subject, seconds(m), seconds(find(ARM.limit, m)));
    }
    if (m.arm === ARM.strataApplyParallel('overlayfs')) {
      add('apply overlayfs: layers in parallel / one after another', subject, seconds(m), seconds(find(ARM.strataApply('overlayfs'), m)));
      add('apply overlayfs, layers in parallel: strata / containerd Go', subject, seconds(m), seconds(find(ARM.referenceApply('overlay'), m)));
    }
    if (m.arm === ARM.strataApply('native')) add('apply native: strata / containerd Go', subject, seconds(m), seconds(find(ARM.referenceApply('native'), m)));
  }
  // Every other snapshotter's containerd arms over the reference's, per input.
  const reference = referenceSnapshotter(snapshotters);
  const inputs = [...new Map(raw.filter((m) => m.group === 'containerd').map((m) => [`${m.subject} ${m.compression}`, m])).values()];
  for (const snapshotter of snapshotters.filter((name) => name !== reference)) {
    for (const m of inputs) {
      const subject = `${m.subject} ${m.compression}`;
      const ratio = (kind: string, arm: (name: string) => string) => add(`${kind}: ${snapshotter} / ${reference}`, subject, seconds(find(arm(snapshotter), m)), seconds(find(arm(reference), m)));
      ratio('ctr import', (name) => ARM.ctrImport(name, true));
      const share = (name: string) => {
        const withUnpack = seconds(find(ARM.ctrImport(name, true), m));
        const without = seconds(find(ARM.ctrImport(name, false), m));
        return withUnpack !== undefined && without !== undefined ? Math.max(withUnpack - without, 1e-3) : undefined;
      };
      add(`ctr import, unpack share: ${snapshotter} / ${reference}`, subject, share(snapshotter), share(reference));
      ratio('ctr pull', ARM.ctrPull);
      ratio('pull to first container', ARM.firstContainer);
      ratio('pull into a second namespace', ARM.secondNamespacePull);
      ratio('remove and collect', ARM.removal);
    }
  }
  for (const m of inputs) add('ctr pull into strata: from a peer mirror / from the registry', `${m.subject} ${m.compression}`, seconds(find(ARM.ctrPullMirror, m)), seconds(find(ARM.ctrPull('strata'), m)));
  for (const s of snapshots.filter((s) => s.target === 'strata')) {
    const other = snapshots.find((o) => o.target === 'containerd' && o.depth === s.depth && o.clients === s.clients);
    add('snapshot round p50: strata / containerd', snapshotSubject(s), s.round.p50Ms, other?.round.p50Ms);
  }
  for (const c of content.filter((c) => c.target === 'strata')) {
    const other = content.find((o) => o.target === 'containerd' && o.writers === c.writers);
    if (!other) continue;
    const subject = contentSubject(c);
    // Time per MiB, so that below 1 means strata is faster here too.
    add('content write: strata / containerd', subject, 1 / c.writeMiBPerSecond.p50, 1 / other.writeMiBPerSecond.p50);
    add('content read: strata / containerd', subject, 1 / c.readMiBPerSecond.p50, 1 / other.readMiBPerSecond.p50);
  }
  return { measurements, ratios };
}
