// Domain types of the diff service.
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
}

/** What Apply returns: the uncompressed tar, whose digest is the layer's diff ID. */
export const UNCOMPRESSED_LAYER = 'application/vnd.oci.image.layer.v1.tar';
