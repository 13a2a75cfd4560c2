// The standard grpc.health.v1 service (grpc-health-check), for `grpc_health_probe`-style
// checks of the plugin socket: "" and each served service, SERVING while strata serves.
import type * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { ServiceBinding } from './grpc-server';

type Server = Parameters<HealthImplementation['addToServer']>[0];

export class HealthService {
  readonly bindings: ServiceBinding[] = [];
  private readonly health: HealthImplementation;
  private readonly names: string[];
  /** Open Watch streams: a watcher would otherwise hold shutdown for its whole grace. */
  private readonly watches = new Set<grpc.ServerWritableStream<unknown, unknown>>();

  constructor(services: string[]) {
    this.names = ['', ...services];
    this.health = new HealthImplementation(Object.fromEntries(this.names.map((name) => [name, 'NOT_SERVING'])));
    const collect: Pick<Server, 'addService'> = {
      addService: (definition, implementation) => {
        const watch = implementation.watch as grpc.handleServerStreamingCall<unknown, unknown> | undefined;
        const tracked = watch && {
          watch: (call: grpc.ServerWritableStream<unknown, unknown>) => {
            this.watches.add(call);
            call.once('close', () => this.watches.delete(call));
            call.once('cancelled', () => this.watches.delete(call));
            watch(call);
          },
        };
        this.bindings.push({ definition, implementation: { ...implementation, ...tracked } });
      },
    };
    this.health.addToServer(collect as Server);
  }

  serving(): void {
    for (const name of this.names) this.health.setStatus(name, 'SERVING');
  }

  /** NOT_SERVING to every watcher, then their streams end, so that shutdown need not wait for them. */
  stopping(): void {
    for (const name of this.names) this.health.setStatus(name, 'NOT_SERVING');
    for (const call of this.watches) call.end();
    this.watches.clear();
  }
}
