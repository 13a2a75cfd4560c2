// `docker://` references as Docker and containerd read them: a first
// component with a dot, a colon or "localhost" is a registry host; otherwise
// the image is on Docker Hub, and a one-part name is under library/.
import { invalidArgument } from '../errdefs';

export interface RegistryReference {
  /** host[:port] as written, docker.io for Docker Hub. */
  host: string;
  repository: string;
  /** A tag or a digest. */
  reference: string;
}

const DOCKER_HUB = 'docker.io';

export function parseRegistryReference(text: string): RegistryReference {
  const invalid = () => invalidArgument(`invalid image reference ${JSON.stringify(text)}`);
  if (text === '' || /\s/.test(text)) throw invalid();
  let rest = text;
  let reference = 'latest';
  const at = rest.indexOf('@');
  if (at >= 0) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+:[a-f0-9]{32,}$/.test(reference)) throw invalid();
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      reference = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
      if (!/^[\w][\w.-]{0,127}$/.test(reference)) throw invalid();
    }
  }
  const parts = rest.split('/');
  let host = DOCKER_HUB;
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    host = parts.shift() as string;
  }
  if (host === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) throw invalid();
  return { host, repository, reference };
}

/** Where the registry's API is: Docker Hub's is not at docker.io. */
export function registryEndpoint(host: string): string {
  return host === DOCKER_HUB ? 'registry-1.docker.io' : host;
}
