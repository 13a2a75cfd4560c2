// Strata's own content store as an image source, over its socket: the
// manifests and layers containerd pulled into it, from a manifest or index
// digest.
import { Readable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { connect, unaryCall, type StrataClient } from '../client/connect';
import type { ReadResponse } from '../client/content-messages';
import { invalidArgument, isKind } from '../errdefs';
import { readBlob, sniffMediaType } from './resolve';
import type { ImageSource } from './source';
import { MEDIA_TYPES, type Descriptor } from './types';

export class StrataSource implements ImageSource {
  private readonly client: StrataClient;

  constructor(
    address: string,
    private readonly digest: string,
  ) {
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) {
      throw invalidArgument(`strata:${digest}: give a manifest or index digest (sha256:...)`);
    }
    this.client = connect(address);
  }

  get name(): string {
    return `strata:${this.digest}`;
  }

  async top(): Promise<Descriptor> {
    const { info } = await unaryCall<object, { info: { size: number } }>(this.client.content, 'Info', { digest: this.digest });
    const probe = { mediaType: MEDIA_TYPES.ociManifest, digest: this.digest, size: info.size };
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

  async open(descriptor: Descriptor): Promise<Readable> {
    const content = this.client.content as unknown as { Read(request: object): grpc.ClientReadableStream<ReadResponse> };
    const call = content.Read({ digest: descriptor.digest, offset: 0, size: 0 });
    return Readable.from(
      (async function* () {
        for await (const message of call as AsyncIterable<ReadResponse>) yield message.data;
      })(),
      { objectMode: false },
    );
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
