// One grpc-js server interceptor sees every call of every service as it
// ends: it counts it, times it, and logs it (each failure once, with what it
// was about; every call at debug level).
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';
import { causeOf } from './status';

/** Go's names for the codes (codes.NotFound), as containerd's logs and metrics print them. */
const CODE_NAMES = Object.fromEntries(
  Object.entries(grpc.status)
    .filter(([, code]) => typeof code === 'number')
    .map(([name, code]) => [code, name.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase())]),
) as Record<number, string>;
CODE_NAMES[grpc.status.OK] = 'OK';

/** Codes that say the server failed, rather than that the request could not be met. */
const SERVER_FAULTS = new Set([grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.DATA_LOSS, grpc.status.RESOURCE_EXHAUSTED]);

/** What a request is about, for the log: its key, name, digest or ref. */
function subjectOf(request: unknown): Record<string, string> {
  if (typeof request !== 'object' || request === null) return {};
  const r = request as Record<string, unknown>;
  const found: Record<string, string> = {};
  for (const field of ['key', 'parent', 'name', 'digest', 'ref'] as const) {
    if (typeof r[field] === 'string' && r[field] !== '') found[field] = r[field] as string;
  }
  const nested = (r.info ?? r.diff) as Record<string, unknown> | null | undefined;
  for (const field of ['name', 'digest'] as const) {
    if (typeof nested?.[field] === 'string' && nested[field] !== '' && !found[field]) found[field] = nested[field] as string;
  }
  return found;
}

export function rpcObserver(log: Logger, metrics: Metrics | undefined): grpc.ServerInterceptor {
  const debug = log.isLevelEnabled('debug');
  return (descriptor, call) => {
    const started = process.hrtime.bigint();
    const [, service = '', method = ''] = /^\/([^/]*)\/(.*)$/.exec(descriptor.path) ?? [];
    let subject: Record<string, string> | undefined;
    let ended = false;
    const end = (code: number, details: string | undefined, metadata: grpc.Metadata | null | undefined) => {
      if (ended) return;
      ended = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const codeName = CODE_NAMES[code] ?? String(code);
      metrics?.rpcs.inc({ service, method, code: codeName });
      metrics?.rpcSeconds.observe({ service, method }, seconds);
      if (code === grpc.status.OK && !debug) return;
      const entry = { method: descriptor.path, code: codeName, ms: Math.round(seconds * 1e4) / 10, ...subject };
      if (code === grpc.status.OK) log.debug(entry, 'rpc');
      else if (SERVER_FAULTS.has(code)) log.error({ ...entry, err: metadata ? causeOf(metadata) : undefined, details }, 'rpc failed');
      else log.info({ ...entry, details }, 'rpc failed');
    };
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMessage((message, next) => {
        subject ??= subjectOf(message);
        next(message);
      })
      .withOnCancel(() => end(grpc.status.CANCELLED, 'cancelled by the client', undefined))
      .build();
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendStatus((status, next) => {
        end(status.code ?? grpc.status.UNKNOWN, status.details, status.metadata);
        next(status);
      })
      .build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}
