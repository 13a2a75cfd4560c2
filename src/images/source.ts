// Where an image lives, behind one interface: an OCI layout (a directory or
// an archive), a registry, or strata's own content store. A source hands out
// the image's top (an index or a manifest) and streams any blob by its
// descriptor; resolve.ts walks from the top to one platform's image.
import type { Readable } from 'node:stream';
import type { Descriptor, ImageIndex } from './types';

/** A layout's index.json is an index, but not a blob with a digest of its own. */
export interface LayoutIndex {
  index: ImageIndex;
}

export interface ImageSource {
  /** The reference it was opened with, for messages. */
  readonly name: string;
  /** The image's top: the descriptor of an index or a manifest, or a layout's own index. */
  top(): Promise<Descriptor | LayoutIndex>;
  /** A blob's bytes, streamed; the caller verifies what it needs to. */
  open(descriptor: Descriptor): Promise<Readable>;
  close(): Promise<void>;
}
