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

/**
 * Applies an Update's labels under containerd's field-mask rules: no paths
 * or "labels" replaces all labels; "labels.KEY" sets or (when the new value
 * is absent or empty) removes one; any other path is immutable.
 */
export function updateLabels(
  current: Record<string, string>,
  requested: Record<string, string>,
  fieldpaths: readonly string[],
  subject: string,
): Record<string, string> {
  if (fieldpaths.length === 0) return checked({ ...requested });
  let updated = { ...current };
  for (const path of fieldpaths) {
    if (path.startsWith('labels.')) {
      const key = path.slice('labels.'.length);
      if (requested[key]) updated[key] = requested[key];
      else delete updated[key];
    } else if (path === 'labels') {
      updated = { ...requested };
    } else {
      throw invalidArgument(`cannot update ${JSON.stringify(path)} field on ${subject}`);
    }
  }
  return checked(updated);
}

function checked(labels: Record<string, string>): Record<string, string> {
  validateLabels(labels);
  return labels;
}
