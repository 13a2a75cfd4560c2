// Kubernetes' Container Runtime Interface, spoken to containerd's socket the
// way kubelet speaks it: runtime.v1's RuntimeService and ImageService, from
// proto/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto, over @grpc/grpc-js.
// There is no crictl in Debian; this is the part of it the tests need.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { unaryCall } from '../../src/client/connect';
import { PROTO_LOADER_OPTIONS } from '../../src/server/proto';

const API = 'k8s.io/cri-api/pkg/apis/runtime/v1/api.proto';

/** runtime.v1.NamespaceMode: the pod shares the node's network, so no CNI is needed. */
export const NODE_NETWORK = 'NODE';

export interface CriClient {
  runtime: grpc.Client;
  images: grpc.Client;
  /** One unary call of RuntimeService or ImageService, by method name; messages in the proto's field names. */
  call<Res = Record<string, unknown>>(method: string, request?: object): Promise<Res>;
  close(): void;
}

const IMAGE_METHODS = new Set(['ListImages', 'ImageStatus', 'PullImage', 'RemoveImage', 'ImageFsInfo']);

export function connectCri(address: string): CriClient {
  const definition = protoLoader.loadSync(API, PROTO_LOADER_OPTIONS);
  const options = { 'grpc.default_authority': 'localhost', 'grpc.max_receive_message_length': 16 << 20 };
  const client = (name: string): grpc.Client => {
    const Client = grpc.makeGenericClientConstructor(definition[name] as unknown as grpc.ServiceDefinition, '');
    return new Client(`unix:${address}`, grpc.credentials.createInsecure(), options);
  };
  const runtime = client('runtime.v1.RuntimeService');
  const images = client('runtime.v1.ImageService');
  return {
    runtime,
    images,
    call: (method, request = {}) => unaryCall(IMAGE_METHODS.has(method) ? images : runtime, method, request),
    close() {
      runtime.close();
      images.close();
    },
  };
}

/**
 * containerd's CRI plugin settings for a test: registries' hosts.toml files
 * under `certsDir`, no OOM score adjustment (root in this sandbox lacks
 * CAP_SYS_RESOURCE), and `more`.
 */
export function criSettings(certsDir: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { plugins: { 'io.containerd.grpc.v1.cri': { restrict_oom_score_adj: true, registry: { config_path: certsDir }, ...more } } };
}
