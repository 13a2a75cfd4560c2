// Where content lives under --root: content/blobs/<algorithm>/<hex> holds
// committed blobs (read-only), content/ingest/<sha256 of ref>/data holds
// writes in progress.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { parseDigest } from './digest';

export class ContentLayout {
  readonly blobsDir: string;
  readonly ingestDir: string;

  constructor(root: string) {
    this.blobsDir = path.join(root, 'content', 'blobs');
    this.ingestDir = path.join(root, 'content', 'ingest');
  }

  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(this.blobsDir, algorithm, hex);
  }

  /** Refs are arbitrary strings; hashing them gives a safe, fixed-length name. */
  ingestDirName(ref: string): string {
    return createHash('sha256').update(ref).digest('hex');
  }

  ingestData(dirName: string): string {
    return path.join(this.ingestDir, dirName, 'data');
  }
}
