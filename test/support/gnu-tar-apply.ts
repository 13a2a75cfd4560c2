// A second applier to check strata's against: GNU tar extracting a layer into
// a plain directory, with the OCI whiteouts done by hand first, the way
// containerd's archive.Apply treats them (rm -rf of a whited-out name, the
// lower contents of an opaque directory removed) and the whiteout members
// themselves left out of the extraction.
//
// GNU tar (1.34) has no flag for containerd's replace rules on its own. By
// default it replaces a file, symlink or empty directory with any member,
// and merges a directory member into an existing directory, as containerd
// does; but it will not remove a non-empty directory for a non-directory
// member ("Cannot open: File exists"). --recursive-unlink removes that
// directory, but it also removes an existing directory before extracting a
// directory member of the same name (tar's manual: "remove existing
// directory hierarchies before extracting directories of the same name"), so
// a directory declared again loses what lower layers put in it, which is not
// containerd's merge. The default is kept, and a non-empty directory that a
// non-directory member replaces is removed by hand, like the whiteouts: in a
// canonical layer nothing of the same layer lies beneath it, so removing it
// before the extraction is the same as removing it when the member comes.
//
// Flags: -p keeps every mode bit (setuid/setgid/sticky included, after the
// chown), --same-owner --numeric-owner the ids as numbers, --xattrs with
// --xattrs-include='user.*' the user xattrs from SCHILY.xattr records (GNU
// tar restores none without --xattrs, and only user.* by default with it).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { extract } from 'tar-stream';
import type { Tree, TreeEntry } from './tree';

const execFileAsync = promisify(execFile);

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

export const GNU_TAR_FLAGS = ['-p', '--same-owner', '--numeric-owner', '--xattrs', '--xattrs-include=user.*', '--exclude=.wh.*'];

async function memberList(tar: Buffer): Promise<{ name: string; type: string }[]> {
  const extractor = extract();
  const found: { name: string; type: string }[] = [];
  const done = (async () => {
    for await (const entry of extractor) {
      found.push({ name: path.posix.normalize(entry.header.name.replace(/\/$/, '')), type: entry.header.type ?? 'file' });
      entry.resume();
    }
  })();
  extractor.end(tar);
  await done;
  return found;
}

/**
 * `relative` under root, when every component up to and including it is a
 * real directory (never a symlink): only then can lower content be there to
 * remove, and no removal ever follows a link out of the tree.
 */
function realDir(root: string, relative: string): string | undefined {
  let at = root;
  for (const part of relative === '.' ? [] : relative.split('/')) {
    at = path.join(at, part);
    const stat = fs.lstatSync(at, { throwIfNoEntry: false });
    if (!stat?.isDirectory()) return undefined;
  }
  return at;
}

/** Applies one uncompressed layer tar onto `root` with GNU tar. */
export async function gnuTarApply(root: string, tar: Buffer, tarFile: string): Promise<void> {
  for (const member of await memberList(tar)) {
    const parent = path.posix.dirname(member.name);
    const base = path.posix.basename(member.name);
    if (base === OPAQUE_MARKER) {
      const dirPath = realDir(root, parent);
      if (dirPath === undefined) continue;
      for (const child of fs.readdirSync(dirPath)) fs.rmSync(path.join(dirPath, child), { recursive: true, force: true });
      continue;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const dirPath = realDir(root, parent);
      if (dirPath !== undefined) fs.rmSync(path.join(dirPath, base.slice(WHITEOUT_PREFIX.length)), { recursive: true, force: true });
      continue;
    }
    if (member.type !== 'directory') {
      // See the header: the one replacement GNU tar will not make itself.
      const dirPath = realDir(root, member.name);
      if (dirPath !== undefined && fs.readdirSync(dirPath).length > 0) fs.rmSync(dirPath, { recursive: true, force: true });
    }
  }
  await fs.promises.writeFile(tarFile, tar);
  try {
    await execFileAsync('tar', ['-x', '-f', tarFile, '-C', root, ...GNU_TAR_FLAGS]);
  } catch (error) {
    const stderr = error instanceof Error && 'stderr' in error ? String(error.stderr).trim() : String(error);
    throw new Error(`GNU tar failed to extract a layer: ${stderr}`);
  } finally {
    await fs.promises.rm(tarFile, { force: true });
  }
}

const S_ISGID = 0o2000;

/**
 * Where GNU tar's tree differs from containerd's by design, taken as the
 * other tree's. One way, found by the fuzzing: a directory GNU tar creates
 * inside a directory that is setgid already (one a lower layer made) inherits
 * the setgid bit from the kernel, and tar 1.34 chmods a new directory only
 * when the member's permission bits differ from those it gave mkdir (rwx for
 * the owner): a member `dir a/a 0700` under an existing `a 02775` stays
 * 02700, where containerd's applier (and strata's) chmods every directory to
 * its member's mode, 0700. In one archive the parent's setgid bit is only set
 * at the end (tar delays directory modes), so nothing inherits it.
 */
export function withoutGnuTarQuirks(byTar: Tree, other: Tree): { tree: Tree; forgiven: string[] } {
  const tree = new Map(byTar);
  const forgiven: string[] = [];
  for (const [p, theirs] of byTar) {
    const ours = other.get(p);
    if (theirs.type !== 'directory' || ours?.type !== 'directory') continue;
    if ((ours.mode & S_ISGID) !== 0 || (ours.mode & 0o777) !== 0o700 || theirs.mode !== (ours.mode | S_ISGID)) continue;
    tree.set(p, { ...theirs, mode: ours.mode } as TreeEntry);
    forgiven.push(p);
  }
  return { tree, forgiven };
}
