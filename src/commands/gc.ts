// `strata gc`: asks a running strata to collect garbage now, by containerd's
// gc labels, and prints what went, by kind, with the bytes freed.
import { filesize } from 'filesize';
import { unaryCall } from '../client/connect';
import { openStrata } from '../client/reach-server';
import { isKind } from '../errdefs';
import { fromServiceError } from '../server/status';
import { alignedTable } from '../text-table';
import { UsageError } from '../usage-error';

export interface GcFlags {
  address: string;
  dryRun?: boolean;
  json?: boolean;
}

interface Collected {
  kind: 'snapshot' | 'blob' | 'ingest';
  id: string;
  bytes: number;
}

export async function gc(flags: GcFlags): Promise<void> {
  const client = await openStrata(flags.address, '--address');
  let response: { dry_run: boolean; removed: Collected[] };
  try {
    response = await unaryCall(client.admin, 'CollectGarbage', { dry_run: flags.dryRun === true });
  } catch (err) {
    const failure = fromServiceError(err, `strata at ${flags.address}`);
    // In gc.mode = containerd there is nothing for this command to do: a usage error, not a failure.
    if (isKind(failure, 'FailedPrecondition')) throw new UsageError((failure as Error).message);
    throw failure;
  } finally {
    client.close();
  }
  const kinds = ['snapshot', 'blob', 'ingest'] as const;
  const totals = Object.fromEntries(kinds.map((k) => [k, response.removed.filter((r) => r.kind === k).reduce((sum, r) => sum + r.bytes, 0)]));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ dryRun: response.dry_run, removed: response.removed, bytes: totals }, null, 2)}\n`);
    return;
  }
  const human = (bytes: number) => filesize(bytes, { base: 2, standard: 'iec' }) as string;
  const verb = response.dry_run ? 'would remove' : 'removed';
  const lines = kinds.map((k) => `${verb} ${response.removed.filter((r) => r.kind === k).length} ${k}(s), ${human(totals[k])}`);
  const rows = response.removed.map((r) => [r.kind, human(r.bytes), r.id]);
  process.stdout.write(`${lines.join('\n')}\n${rows.length ? `\n${alignedTable(['kind', 'bytes', 'id'], rows, [0, 2]).join('\n')}\n` : ''}`);
}
