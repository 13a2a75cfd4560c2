// Label validation shared by snapshots and content, as containerd's labels package.
import { invalidArgument } from './errdefs';

const MAX_LABEL_SIZE = 4096;

export function validateLabels(labels: Record<string, string>): void {
  for (const [key, value] of Object.entries(labels)) {
    if (key === '') throw invalidArgument('label key must not be empty');
    const size = Buffer.byteLength(key) + Buffer.byteLength(value);
    if (size > MAX_LABEL_SIZE) {
      throw invalidArgument(
        `label key and value greater than maximum size (${MAX_LABEL_SIZE} bytes), key: ${key.slice(0, 64)}`,
      );
    }
  }
}
