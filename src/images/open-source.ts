// Image references, like skopeo's transports: oci-archive:FILE, oci:DIR
// (each with an optional :REF), docker://HOST/REPO[:TAG|@DIGEST], and
// strata:DIGEST-OR-NAME. A bare path is sniffed: a directory is a layout, a
// file an archive (an OCI one, or what `docker save` writes).
import fs from 'node:fs';
import { invalidArgument, notFound } from '../errdefs';
import { DockerArchiveSource } from './docker-archive-source';
import { archiveFiles, directoryFiles } from './layout-files';
import { OciLayoutSource } from './oci-layout-source';
import { parseRegistryReference } from './registry-reference';
import { RegistrySource } from './registry-source';
import type { ImageSource } from './source';

export interface OpenOptions {
  /** docker://: speak plain HTTP (a local registry). */
  plainHttp?: boolean;
  /** strata:: the socket of a running strata. */
  strataAddress?: string;
  /** strata:NAME: containerd's socket and namespace, which know the name. */
  containerdAddress?: string;
  namespace?: string;
}

/** PATH or PATH:REF, where REF (a tag or image name in the layout) cannot contain a slash. */
function pathAndRef(rest: string): { path: string; ref?: string } {
  if (fs.existsSync(rest)) return { path: rest };
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && !rest.slice(colon + 1).includes('/')) return { path: rest.slice(0, colon), ref: rest.slice(colon + 1) };
  return { path: rest };
}

async function layout(rest: string, kind: 'oci' | 'oci-archive'): Promise<ImageSource> {
  const { path, ref } = pathAndRef(rest);
  const stat = await fs.promises.stat(path).catch(() => undefined);
  if (!stat) throw notFound(`${kind}:${path} does not exist`);
  if (kind === 'oci' && !stat.isDirectory()) throw invalidArgument(`oci:${path} is not a directory`);
  if (kind === 'oci-archive' && !stat.isFile()) throw invalidArgument(`oci-archive:${path} is not a file`);
  return kind === 'oci' ? new OciLayoutSource(directoryFiles(path), ref) : archiveSource(path, ref);
}

/** An archive holds an OCI layout, or `docker save`'s own layout (before Docker 25; later ones add an OCI layout beside it), or no image. */
async function archiveSource(path: string, ref: string | undefined): Promise<ImageSource> {
  const files = await archiveFiles(path);
  if ((await files.size('oci-layout')) !== undefined) return new OciLayoutSource(files, ref);
  if ((await files.size('manifest.json')) !== undefined) return new DockerArchiveSource(files, ref);
  // Both come late in the archives skopeo and docker write: a cut at a member's end loses them.
  if (!files.ended) throw invalidArgument(`${path} is truncated: the tar stops without its end-of-archive blocks, before any oci-layout or manifest.json`);
  throw invalidArgument(`${path} is not an image archive: a tar with neither oci-layout (an OCI archive) nor manifest.json (docker save)`);
}

export async function openImageSource(reference: string, options: OpenOptions = {}): Promise<ImageSource> {
  const colon = reference.indexOf(':');
  const transport = colon > 0 ? reference.slice(0, colon) : '';
  const rest = reference.slice(colon + 1);
  switch (transport) {
    case 'oci':
    case 'oci-archive':
      return layout(rest, transport);
    case 'docker':
      if (!rest.startsWith('//')) throw invalidArgument(`${reference}: write docker://HOST/REPO:TAG`);
      return new RegistrySource(parseRegistryReference(rest.slice(2)), { plainHttp: options.plainHttp });
    case 'strata': {
      if (!options.strataAddress) throw invalidArgument(`${reference}: strata: needs the socket of a running strata (--address)`);
      // Loaded only here: gRPC and protobufjs are a tenth of inspect's memory, and no other source needs them.
      const { StrataSource } = await import('./strata-source');
      return StrataSource.open(options.strataAddress, rest, { containerdAddress: options.containerdAddress, namespace: options.namespace });
    }
    default: {
      const stat = await fs.promises.stat(reference).catch(() => undefined);
      if (!stat) throw notFound(`${reference}: no such file, and not a transport:reference (oci:, oci-archive:, docker://, strata:)`);
      return layout(reference, stat.isDirectory() ? 'oci' : 'oci-archive');
    }
  }
}
