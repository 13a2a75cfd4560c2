// An image straight from a registry over the distribution API: no daemon,
// no pull. Manifests and indexes come from /manifests/, everything else from
// /blobs/, streamed. `plainHttp` is for local registries without TLS.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { invalidArgument, notFound, unavailable } from '../errdefs';
import { fetchFailure } from './fetch-failure';
import { basicAuthorization, dockerCredentials, parseChallenge, type Credentials } from './registry-auth';
import { registryEndpoint, type RegistryReference } from './registry-reference';
import { sniffMediaType } from './resolve';
import type { ImageSource } from './source';
import { isIndex, isManifest, MEDIA_TYPES, type Descriptor } from './types';

const MANIFEST_TYPES = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.dockerManifest];

export interface RegistryOptions {
  plainHttp?: boolean;
  /** By default, what `docker login` stored for the host. */
  credentials?: Credentials;
}

export class RegistrySource implements ImageSource {
  private authorization: string | undefined;
  private readonly credentials: Credentials | undefined;
  private readonly base: string;
  private readonly plainHttp: boolean;
  /** The top manifest's bytes, read once for its digest and kept for the first open. */
  private topBody: { digest: string; body: Buffer } | undefined;

  constructor(
    private readonly ref: RegistryReference,
    options: RegistryOptions = {},
  ) {
    this.credentials = options.credentials ?? dockerCredentials(ref.host);
    this.plainHttp = options.plainHttp === true;
    this.base = `${this.plainHttp ? 'http' : 'https'}://${registryEndpoint(ref.host)}/v2/${ref.repository}`;
  }

  get name(): string {
    const separator = this.ref.reference.includes(':') ? '@' : ':';
    return `docker://${this.ref.host}/${this.ref.repository}${separator}${this.ref.reference}`;
  }

  async top(): Promise<Descriptor> {
    const response = await this.get(`manifests/${this.ref.reference}`, MANIFEST_TYPES.join(', '));
    const body = Buffer.from(await response.arrayBuffer());
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const said = response.headers.get('docker-content-digest');
    if (said && said !== digest) throw invalidArgument(`${this.name}: the registry says ${said}, the manifest hashes to ${digest}`);
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0].trim();
    this.topBody = { digest, body };
    return { mediaType: mediaType || sniffBody(body), digest, size: body.length };
  }

  async open(descriptor: Descriptor): Promise<Readable> {
    if (this.topBody?.digest === descriptor.digest) return Readable.from([this.topBody.body]);
    const manifest = isIndex(descriptor.mediaType) || isManifest(descriptor.mediaType);
    const path = `${manifest ? 'manifests' : 'blobs'}/${descriptor.digest}`;
    const response = await this.get(path, manifest ? descriptor.mediaType : '*/*');
    if (!response.body) return Readable.from([]);
    return this.saying(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), path);
  }

  /** A body whose connection breaks fails with fetch's bare "terminated": this says what broke. */
  private saying(body: Readable, path: string): Readable {
    const failed = `${this.name}: GET ${path}: ${new URL(this.base).host} stopped sending part way through; try again`;
    return Readable.from(
      (async function* () {
        try {
          yield* body;
        } catch {
          throw unavailable(failed);
        }
      })(),
      { objectMode: false },
    );
  }

  async close(): Promise<void> {
    this.topBody = undefined;
  }

  private async get(path: string, accept: string): Promise<Response> {
    const url = `${this.base}/${path}`;
    let response = await this.fetch(url, accept);
    if (response.status === 401) {
      await response.arrayBuffer();
      const refused = `${this.name}: GET ${path}: 401 ${response.statusText}`;
      this.authorization = await this.authorize(response.headers.get('www-authenticate') ?? '', refused);
      response = await this.fetch(url, accept);
    }
    if (response.ok) return response;
    const detail = (await response.text().catch(() => '')).slice(0, 200).trim();
    const what = `${this.name}: GET ${path}: ${response.status} ${response.statusText}${detail ? ` ${detail}` : ''}`;
    if (response.status === 404) throw notFound(what);
    // Go's servers, the registry's among them, answer plain HTTP on a TLS port so.
    if (response.status === 400 && this.plainHttp && detail.includes('HTTP request to an HTTPS server')) {
      throw unavailable(`${this.name}: ${new URL(url).host} serves HTTPS: leave out --plain-http`);
    }
    if (response.status === 401 || response.status === 403) throw invalidArgument(`${what} (credentials for ${this.ref.host} are missing or not accepted)`);
    throw unavailable(what);
  }

  private async fetch(url: string, accept: string): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (this.authorization) headers.authorization = this.authorization;
    try {
      return await fetch(url, { headers, redirect: 'follow' });
    } catch (err) {
      throw unavailable(`${this.name}: ${fetchFailure(new URL(url), err, true)}`);
    }
  }

  private async authorize(header: string, refused: string): Promise<string> {
    const challenge = parseChallenge(header);
    if (challenge?.scheme === 'basic') {
      if (!this.credentials) throw invalidArgument(`${refused}: the registry wants a login, and there is no login for ${this.ref.host} in ~/.docker/config.json`);
      return basicAuthorization(this.credentials);
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw invalidArgument(`${refused}: unsupported authentication challenge ${JSON.stringify(header)}`);
    }
    const url = new URL(challenge.params.realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', challenge.params.scope ?? `repository:${this.ref.repository}:pull`);
    const headers: Record<string, string> = this.credentials ? { authorization: basicAuthorization(this.credentials) } : {};
    let response: Response;
    try {
      response = await fetch(url, { headers });
    } catch (err) {
      throw unavailable(`${this.name}: the token service: ${fetchFailure(url, err, false)}`);
    }
    if (!response.ok) throw invalidArgument(`${this.name}: the token service answered ${response.status} ${response.statusText}`);
    const { token, access_token: accessToken } = (await response.json()) as { token?: string; access_token?: string };
    if (!token && !accessToken) throw invalidArgument(`${this.name}: the token service gave no token`);
    return `Bearer ${token ?? accessToken}`;
  }
}

function sniffBody(body: Buffer): string {
  try {
    return sniffMediaType(JSON.parse(body.toString('utf8'))) ?? MEDIA_TYPES.ociManifest;
  } catch {
    throw invalidArgument('the registry answered a manifest that is not JSON');
  }
}
