// Strata's own content store as an image source, over its socket: the
// manifests and layers containerd pulled into it, from a manifest or index
// digest, or from an image name that containerd resolves.
import { Readable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { connect, unaryCall, type StrataClient } from '../client/connect';
import type { ReadResponse } from '../client/content-messages';
import { checkSocket, openStrata, wrongServer, type ServerSocket } from '../client/reach-server';
import { inContext, invalidArgument, isKind, withContext } from '../errdefs';
import { fromServiceError } from '../server/status';
import { readBlob, sniffMediaType } from './resolve';
import type { ImageSource } from './source';
import { MEDIA_TYPES, type Descriptor } from './types';

export interface StrataSourceOptions {
  /** containerd's socket, to resolve an image name; a digest needs none. */
  containerdAddress?: string;
  /** containerd's namespace for the name (ctr's default is "default"). */
  namespace?: string;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

const containerdSocket = (address: string): ServerSocket => ({ address, server: 'containerd', flag: '--containerd-address' });

export class StrataSource implements ImageSource {
  /** Fails, before anything is read, when either socket is not the server it should be. */
  static async open(address: string, ref: string, options: StrataSourceOptions = {}): Promise<StrataSource> {
    if (!DIGEST.test(ref) && !options.containerdAddress) {
      throw invalidArgument(`strata:${ref}: give a manifest or index digest (sha256:...), or containerd's socket (--containerd-address) to resolve a name`);
    }
    return inContext(`strata:${ref}`, async () => {
      if (options.containerdAddress) await checkSocket(containerdSocket(options.containerdAddress));
      return new StrataSource(await openStrata(address, '--address'), address, ref, options);
    });
  }

  private constructor(
    private readonly client: StrataClient,
    private readonly address: string,
    private readonly ref: string,
    private readonly options: StrataSourceOptions,
  ) {}

  get name(): string {
    return `strata:${this.ref}`;
  }

  async top(): Promise<Descriptor> {
    if (!DIGEST.test(this.ref)) return this.resolveName();
    const { info } = await this.call<{ info: { size: number } }>(this.client.content, 'Info', { digest: this.ref });
    const probe = { mediaType: MEDIA_TYPES.ociManifest, digest: this.ref, size: info.size };
    let mediaType: string | undefined;
    try {
      mediaType = sniffMediaType(JSON.parse((await readBlob(this, probe)).toString('utf8')));
    } catch (err) {
      if (isKind(err, 'NotFound')) throw err;
      mediaType = undefined;
    }
    if (!mediaType) throw invalidArgument(`${this.name} is not a manifest or an index`);
    return { ...probe, mediaType };
  }

  /** containerd keeps image names in its own metadata; strata keeps the blobs they point at. */
  private async resolveName(): Promise<Descriptor> {
    const socket = containerdSocket(this.options.containerdAddress as string);
    const containerd = connect(socket.address, { namespace: this.options.namespace ?? 'default' });
    try {
      const { image } = await this.call<{ image: { target: { media_type: string; digest: string; size: number } } }>(
        containerd.images,
        'Get',
        { name: this.ref },
        `containerd at ${socket.address}`,
      );
      return { mediaType: image.target.media_type, digest: image.target.digest, size: image.target.size };
    } catch (err) {
      throw isKind(err, 'Unimplemented') ? withContext(wrongServer(socket), this.name) : err;
    } finally {
      containerd.close();
    }
  }

  private async call<T>(client: grpc.Client, method: string, request: object, server = `strata at ${this.address}`): Promise<T> {
    try {
      return await unaryCall<object, T>(client, method, request);
    } catch (err) {
      throw fromServiceError(err, `${this.name}: ${server}`);
    }
  }

  async open(descriptor: Descriptor): Promise<Readable> {
    const content = this.client.content as unknown as { Read(request: object): grpc.ClientReadableStream<ReadResponse> };
    const call = content.Read({ digest: descriptor.digest, offset: 0, size: 0 });
    const context = `${this.name}: strata at ${this.address}`;
    return Readable.from(
      (async function* () {
        try {
          for await (const message of call as AsyncIterable<ReadResponse>) yield message.data;
        } catch (err) {
          throw fromServiceError(err, context);
        } finally {
          call.cancel();
        }
      })(),
      { objectMode: false },
    );
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
