// Tells systemd (Type=notify) when strata is ready and when it is stopping,
// through $NOTIFY_SOCKET; without one, as when not run by systemd, it does nothing.
import { syscalls } from './native/syscalls';

export interface ServiceManager {
  ready(): void;
  stopping(): void;
}

export function serviceManager(env: NodeJS.ProcessEnv = process.env): ServiceManager {
  const socket = env.NOTIFY_SOCKET;
  // Children (containerd's shims, say) must not talk to systemd as strata.
  delete env.NOTIFY_SOCKET;
  const send = (message: string) => {
    if (socket) syscalls.notifySocket(socket, message);
  };
  return {
    ready: () => send(`READY=1\nMAINPID=${process.pid}\nSTATUS=serving`),
    stopping: () => send('STOPPING=1\nSTATUS=shutting down'),
  };
}
