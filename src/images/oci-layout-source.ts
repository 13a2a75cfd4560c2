// An OCI image layout as an image source: index.json is the top, blobs are
// files under blobs/<algorithm>/<hex>. A reference may name one image of
// the layout by its ref.name annotation (skopeo's oci:DIR:REF).
import { invalidArgument, notFound } from '../errdefs';
import { readLayoutFile, type LayoutFiles } from './layout-files';
import type { ImageSource, LayoutIndex } from './source';
import { CONTAINERD_NAME_ANNOTATION, REF_NAME_ANNOTATION, type Descriptor, type ImageIndex } from './types';

function blobPath(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  if (!algorithm || !hex || !/^[a-z0-9]+$/.test(algorithm) || !/^[a-f0-9]+$/.test(hex)) {
    throw invalidArgument(`invalid digest ${JSON.stringify(digest)}`);
  }
  return `blobs/${algorithm}/${hex}`;
}


export class OciLayoutSource implements ImageSource {
  constructor(
    private readonly files: LayoutFiles,
    /** An image's ref.name (or containerd name) in index.json; all of it when absent. */
    private readonly ref?: string,
  ) {}

  get name(): string {
    return this.ref ? `${this.files.name}:${this.ref}` : this.files.name;
  }

  async top(): Promise<Descriptor | LayoutIndex> {
    if ((await this.files.size('oci-layout')) === undefined) throw notFound(`${this.files.name} is not an OCI layout (no oci-layout file)`);
    let index: ImageIndex;
    try {
      index = JSON.parse((await readLayoutFile(this.files, 'index.json')).toString('utf8')) as ImageIndex;
    } catch (err) {
      throw invalidArgument(`${this.files.name}: index.json: ${(err as Error).message}`);
    }
    if (!Array.isArray(index.manifests)) throw invalidArgument(`${this.files.name}: index.json has no manifests`);
    if (this.ref === undefined) return { index };
    const named = index.manifests.filter((m) => {
      const annotations = m.annotations ?? {};
      return annotations[REF_NAME_ANNOTATION] === this.ref || annotations[CONTAINERD_NAME_ANNOTATION] === this.ref;
    });
    if (named.length === 0) throw notFound(`${this.files.name} has no image named ${this.ref}`);
    return named.length === 1 ? named[0] : { index: { ...index, manifests: named } };
  }

  async open(descriptor: Descriptor) {
    const file = blobPath(descriptor.digest);
    if ((await this.files.size(file)) === undefined) throw notFound(`${this.files.name} has no blob ${descriptor.digest}`);
    return this.files.open(file);
  }

  close(): Promise<void> {
    return this.files.close();
  }
}
