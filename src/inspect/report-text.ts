// `strata inspect`'s report for a terminal: aligned tables, sizes in human
// units. --json prints the report object itself.
import { filesize } from 'filesize';
import { alignedTable } from '../text-table';
import type { InspectReport } from './inspect-image';
import type { LayerEntry } from './layer-scan';
import type { PathDifference } from './path-diff';

const size = (bytes: number) => filesize(bytes, { base: 2, standard: 'iec', round: 1 }) as string;
const short = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);
const words = (list: string[]) => (list.length ? list.map((w) => JSON.stringify(w)).join(' ') : '-');
const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

const TYPE_LETTER: Record<string, string> = { file: '-', dir: 'd', symlink: 'l', hardlink: 'h', device: 'c', fifo: 'p' };

export function modeString(type: string, mode: number): string {
  const bits = 'rwxrwxrwx'.split('').map((letter, i) => (mode & (1 << (8 - i)) ? letter : '-'));
  return (TYPE_LETTER[type] ?? '?') + bits.join('');
}

function describeEntry(entry: LayerEntry): string {
  if (entry.whiteout === 'opaque') return `${entry.path || '/'} [opaque: lower contents hidden]`;
  if (entry.whiteout === 'file') return `${entry.path} [whiteout]`;
  if (entry.type === 'symlink') return `${entry.path} -> ${entry.linkname ?? ''}`;
  if (entry.type === 'hardlink') return `${entry.path} => ${entry.linkname ?? ''}`;
  return entry.path;
}

/** lines.push(...more) passes every line as an argument: a listing of 100,000 paths overflows the call stack. */
function append(lines: string[], more: readonly string[]): void {
  for (const line of more) lines.push(line);
}

export function imageText(report: InspectReport): string {
  const c = report.config;
  const lines = [
    `manifest      ${report.manifest.digest} (${report.manifest.mediaType})`,
    `platform      ${report.platform}${report.platforms ? ` (the index offers ${report.platforms.join(', ')})` : ''}`,
    ...(c.created ? [`created       ${c.created}`] : []),
    `entrypoint    ${words(c.entrypoint)}`,
    `cmd           ${words(c.cmd)}`,
    `user          ${c.user || '-'}`,
    `workdir       ${c.workingDir || '-'}`,
    `ports         ${c.exposedPorts.join(' ') || '-'}`,
    ...c.env.map((e, i) => `${i === 0 ? 'env' : '   '}           ${e}`),
    ...Object.entries(c.labels).map(([k, v], i) => `${i === 0 ? 'labels' : '      '}        ${k}=${v}`),
    `size          ${size(report.totalSize)} compressed, ${size(report.uncompressedSize)} uncompressed`,
    `waste         ${size(report.wastedBytes)}, efficiency ${(report.efficiency * 100).toFixed(1)} %`,
    '',
  ];
  const header = ['#', 'digest', 'size', 'unpacked', 'entries', 'files', 'dirs', 'links', 'wh', 'opq', '+files', '~files', '-files', 'added', 'wasted', 'diffID', 'created by'];
  const rows = report.layers.map((l) => [
    String(l.index),
    short(l.digest),
    size(l.size),
    size(l.uncompressedSize),
    String(l.entries),
    String(l.files),
    String(l.dirs),
    `${l.symlinks}/${l.hardlinks}`,
    String(l.whiteouts),
    String(l.opaqueDirs),
    String(l.addedFiles),
    String(l.modifiedFiles),
    String(l.removedFiles),
    size(l.addedBytes + l.modifiedBytes),
    size(l.wastedBytes),
    l.diffIdMatches ? 'ok' : 'MISMATCH',
    clip(l.createdBy ?? '', 60),
  ]);
  append(lines, alignedTable(header, rows, [0, 1, 15, 16]));
  if (report.topWasted.length) {
    lines.push('', 'wasted (stored, then deleted or overwritten by a later layer)');
    append(lines, alignedTable(['bytes', 'path'], report.topWasted.map((w) => [size(w.bytes), w.path]), [1]));
  }
  if (c.history.length) {
    lines.push('', 'history');
    append(lines, c.history.map((h) => `${h.emptyLayer ? '  (no layer) ' : '             '}${clip(h.createdBy, 100)}`));
  }
  if (report.files) {
    lines.push('', 'files');
    const rows = report.files.map((f) => [String(f.layer), modeString(f.type, f.mode), `${f.uid}:${f.gid}`, f.type === 'file' ? size(f.size) : '', describeEntry(f)]);
    append(lines, alignedTable(['layer', 'mode', 'owner', 'size', 'path'], rows, [1, 2, 4]));
  }
  if (report.tree) {
    lines.push('', 'merged filesystem');
    const rows = report.tree.map((t) => [modeString(t.type, t.mode), `${t.uid}:${t.gid}`, t.type === 'file' ? size(t.size) : '', t.layer < 0 ? '' : String(t.layer), describeEntry(t)]);
    append(lines, alignedTable(['mode', 'owner', 'size', 'layer', 'path'], rows, [0, 1, 4]));
  }
  for (const problem of report.problems) lines.push('', `PROBLEM: ${problem}`);
  return `${lines.join('\n')}\n`;
}

export function differenceText(a: string, b: string, differences: PathDifference[]): string {
  const lines = [`--- ${a}`, `+++ ${b}`];
  const marker = (facts: PathDifference['after']) =>
    facts?.whiteout === 'opaque' ? ' (opaque whiteout)' : facts?.whiteout ? ' (whiteout)' : facts?.linkname !== undefined ? ` -> ${facts.linkname}` : '';
  for (const d of differences) {
    if (d.change === 'added') lines.push(`+ ${d.path}${marker(d.after)}`);
    else if (d.change === 'removed') lines.push(`- ${d.path}${marker(d.before)}`);
    else lines.push(`~ ${d.path} (${d.fields.map((f) => `${f}: ${d.before?.[f] ?? ''} -> ${d.after?.[f] ?? ''}`).join(', ')})`);
  }
  if (differences.length === 0) lines.push('(no differences)');
  return `${lines.join('\n')}\n`;
}
