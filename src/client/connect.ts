// A client for strata's socket, over the same proto definitions the server
// serves: used by the CLI's own subcommands and by the benchmarks, which also
// point it at containerd's socket to compare.
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { loadServices } from '../server/proto';

export interface StrataClient {
  snapshots: grpc.Client;
  content: grpc.Client;
  diff: grpc.Client;
  /** containerd's image names; strata itself does not serve them. */
  images: grpc.Client;
  /** strata's own administration service. */
  admin: grpc.Client;
  /** grpc.health.v1, which tells strata (its services by name) from other servers. */
  health: grpc.Client;
  close(): void;
}

export interface ConnectOptions {
  /**
   * containerd's own services want every call in a namespace (the
   * `containerd-namespace` header); strata's do not.
   */
  namespace?: string;
  /**
   * A containerd lease every call works under (the `containerd-lease`
   * header), so that containerd's garbage collector keeps what they write.
   */
  lease?: string;
  /**
   * The HTTP/2 receive window, in bytes. grpc-js keeps 64 KiB; containerd's
   * Go client grows its window by BDP estimation, up to 16 MiB.
   */
  flowControlWindow?: number;
}

/** Adds containerd's namespace and lease headers to every call. */
function withHeaders(headers: Record<string, string>): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
        next(metadata, listener);
      },
    });
}

/** A client for strata's socket, or for containerd's (same services, with a namespace). */
export function connect(address: string, connectOptions: ConnectOptions = {}): StrataClient {
  const services = loadServices();
  const headers = [
    ...(connectOptions.namespace ? [['containerd-namespace', connectOptions.namespace]] : []),
    ...(connectOptions.lease ? [['containerd-lease', connectOptions.lease]] : []),
  ];
  const options = {
    // A socket path is not a valid HTTP/2 authority; gRPC clients use localhost.
    'grpc.default_authority': 'localhost',
    'grpc.max_receive_message_length': 16 << 20,
    'grpc.max_send_message_length': 16 << 20,
    interceptors: headers.length > 0 ? [withHeaders(Object.fromEntries(headers))] : [],
    ...(connectOptions.flowControlWindow ? { 'grpc-node.flow_control_window': connectOptions.flowControlWindow } : {}),
  };
  const client = (definition: grpc.ServiceDefinition): grpc.Client => {
    const Client = grpc.makeGenericClientConstructor(definition, '');
    return new Client(`unix:${address}`, grpc.credentials.createInsecure(), options);
  };
  const snapshots = client(services.snapshots);
  const content = client(services.content);
  const diff = client(services.diff);
  const images = client(services.images);
  const admin = client(services.admin);
  const health = client(healthService as unknown as grpc.ServiceDefinition);
  return {
    snapshots,
    content,
    diff,
    images,
    admin,
    health,
    close() {
      for (const c of [snapshots, content, diff, images, admin, health]) c.close();
    },
  };
}

type UnaryMethod<Req, Res> = (request: Req, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res: Res) => void) => void;

/** Calls a unary method and resolves with its response. */
export function unaryCall<Req, Res>(client: grpc.Client, method: string, request: Req, options: grpc.CallOptions = {}): Promise<Res> {
  const fn = (client as unknown as Record<string, UnaryMethod<Req, Res>>)[method];
  if (typeof fn !== 'function') throw new Error(`no method ${method}`);
  return new Promise((resolve, reject) =>
    fn.call(client, request, options, (err, res) => (err ? reject(err) : resolve(res))),
  );
}
