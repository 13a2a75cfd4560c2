// Constructors for the members of a layer tar, so fixtures read as a list of
// filesystem objects instead of raw tar-stream headers.
import * as path from 'node:path';
import type { Header } from 'tar-stream';

/** What tar-stream's pack().entry() takes; `pax` records are written as a PAX extended header. */
export type TarHeader = Partial<Omit<Header, 'pax'>> & Pick<Header, 'name'> & { pax?: Record<string, string> };

/** One member of a layer tar; `content` is only meaningful for regular files. */
export interface LayerEntry {
  header: TarHeader;
  content?: Buffer;
}

/** Ownership, permissions, time and extended attributes shared by every entry kind. */
export interface EntryMeta {
  /** Permission and special bits (0o7777). tar-stream replaces 0 with its default, so 0 cannot be expressed. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** Left unset, the archive builder uses a fixed time (see `stamped` to give a whole layer one). */
  mtime?: Date;
  /** Written as PAX `SCHILY.xattr.<name>` records, the form containerd's applier turns into setxattr calls. */
  xattrs?: Record<string, Buffer>;
}

/** OCI whiteout prefix: `.wh.NAME` deletes NAME from lower layers. */
const WHITEOUT_PREFIX = '.wh.';
/** OCI opaque marker: hides everything lower layers put in the directory that holds it. */
const OPAQUE_MARKER = '.wh..wh..opq';

function paxRecords(xattrs: Record<string, Buffer> | undefined): Record<string, string> | undefined {
  if (xattrs === undefined) return undefined;
  const records: Record<string, string> = {};
  for (const [name, value] of Object.entries(xattrs)) {
    // tar-stream encodes PAX records as UTF-8 text, so only 7-bit bytes survive unchanged.
    if (value.some((byte) => byte > 0x7f)) {
      throw new Error(`xattr ${name}: values must be 7-bit bytes (tar-stream writes PAX records as UTF-8)`);
    }
    records[`SCHILY.xattr.${name}`] = value.toString('latin1');
  }
  return records;
}

function header(name: string, type: Header['type'], defaultMode: number, meta: EntryMeta): TarHeader {
  return {
    name,
    type,
    mode: meta.mode ?? defaultMode,
    uid: meta.uid ?? 0,
    gid: meta.gid ?? 0,
    mtime: meta.mtime,
    pax: paxRecords(meta.xattrs),
  };
}

export function dir(name: string, meta: EntryMeta = {}): LayerEntry {
  return { header: header(name, 'directory', 0o755, meta) };
}

export function file(name: string, content: string | Buffer, meta: EntryMeta = {}): LayerEntry {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  return { header: { ...header(name, 'file', 0o644, meta), size: bytes.length }, content: bytes };
}

export function symlink(name: string, target: string, meta: EntryMeta = {}): LayerEntry {
  return { header: { ...header(name, 'symlink', 0o777, meta), linkname: target } };
}

/**
 * A hard link to `target`, an earlier member of the same tar. Appliers set
 * the link entry's owner, mode and time on the shared inode, so give it the
 * target's (as tar writers do).
 */
export function hardlink(name: string, target: string, meta: EntryMeta = {}): LayerEntry {
  return { header: { ...header(name, 'link', 0o644, meta), linkname: target } };
}

export function charDevice(name: string, major: number, minor: number, meta: EntryMeta = {}): LayerEntry {
  return { header: { ...header(name, 'character-device', 0o666, meta), devmajor: major, devminor: minor } };
}

export function blockDevice(name: string, major: number, minor: number, meta: EntryMeta = {}): LayerEntry {
  return { header: { ...header(name, 'block-device', 0o660, meta), devmajor: major, devminor: minor } };
}

export function fifo(name: string, meta: EntryMeta = {}): LayerEntry {
  return { header: header(name, 'fifo', 0o644, meta) };
}

/** Deletes `name` (file or whole directory) that a lower layer created. */
export function whiteout(name: string, meta: EntryMeta = {}): LayerEntry {
  return file(path.posix.join(path.posix.dirname(name), WHITEOUT_PREFIX + path.posix.basename(name)), '', meta);
}

/** Makes `dirName` opaque: only what this layer puts in it remains visible. */
export function opaqueMarker(dirName: string, meta: EntryMeta = {}): LayerEntry {
  return file(path.posix.join(dirName, OPAQUE_MARKER), '', meta);
}

/** Stamps every entry that has no explicit time with `mtime`, so each layer carries its own times. */
export function stamped(mtime: Date, entries: LayerEntry[]): LayerEntry[] {
  return entries.map((entry) =>
    entry.header.mtime === undefined ? { ...entry, header: { ...entry.header, mtime } } : entry,
  );
}
