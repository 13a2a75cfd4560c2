// A manifest's Content-Type, read from the manifest itself: its mediaType
// field, or for an OCI manifest without one, what its fields say it is.
import { MEDIA_TYPES } from '../images/types';

export function manifestMediaType(bytes: Buffer): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const fields = doc as { mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown };
  if (typeof fields.mediaType === 'string' && fields.mediaType !== '') return fields.mediaType;
  if (Array.isArray(fields.manifests)) return MEDIA_TYPES.ociIndex;
  if (fields.config !== undefined && Array.isArray(fields.layers)) return MEDIA_TYPES.ociManifest;
  return undefined;
}
