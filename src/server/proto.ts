// Loads strata's proto/ files into grpc-js service definitions.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import path from 'node:path';
import { packageRoot } from '../package-root';
import { PreEncoded } from './read-response';

const SERVICE_FILES = [
  'containerd/services/snapshots/v1/snapshots.proto',
  'containerd/services/content/v1/content.proto',
  'containerd/services/diff/v1/diff.proto',
  // Not served: the CLI asks containerd for image names through it.
  'containerd/services/images/v1/images.proto',
  'strata/admin/v1/admin.proto',
];

export interface ServiceDefinitions {
  snapshots: grpc.ServiceDefinition;
  content: grpc.ServiceDefinition;
  diff: grpc.ServiceDefinition;
  images: grpc.ServiceDefinition;
  admin: grpc.ServiceDefinition;
}

/** How strata reads its proto/ files: the wire's field names, and numbers for 64-bit integers. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  includeDirs: [path.join(packageRoot(), 'proto')],
  keepCase: true,
  // Sizes and offsets fit well inside 2^53; numbers keep domain code simple.
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
};

export function loadServices(): ServiceDefinitions {
  const definition = protoLoader.loadSync(SERVICE_FILES, PROTO_LOADER_OPTIONS);
  const service = (name: string): grpc.ServiceDefinition =>
    passingPreEncoded(definition[name] as unknown as grpc.ServiceDefinition);
  return {
    snapshots: service('containerd.services.snapshots.v1.Snapshots'),
    content: service('containerd.services.content.v1.Content'),
    diff: service('containerd.services.diff.v1.Diff'),
    images: service('containerd.services.images.v1.Images'),
    admin: service('strata.admin.v1.Admin'),
  };
}

/** Every method's serializer sends a PreEncoded response as it is. */
function passingPreEncoded(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(service).map(([name, method]) => {
      const serialize = method.responseSerialize;
      const passing = (value: unknown) => (value instanceof PreEncoded ? value.bytes : serialize(value));
      return [name, { ...method, responseSerialize: passing }];
    }),
  );
}
