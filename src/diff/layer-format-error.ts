// Telling a broken layer (InvalidArgument) from a failing system (a full
// disk, a cancelled call). In a pipeline one failure is reported by several
// stages, as the same error object, in whatever order they are torn down; so
// a parser's error is marked where it is recognised, not wrapped, and every
// report of it then says whose fault it is.

/** The layer itself is broken: bad compression, a truncated or corrupt tar. */
export class LayerFormatError extends Error {}

const LAYER_FAULT = Symbol('strata.layerFault');

/** Marks another library's error (the tar parser's) as the layer's fault. */
export function markLayerFault(err: Error): Error {
  if (!isLayerFault(err)) Object.defineProperty(err, LAYER_FAULT, { value: true });
  return err;
}

export function isLayerFault(err: unknown): boolean {
  if (err instanceof LayerFormatError) return true;
  if (typeof err !== 'object' || err === null) return false;
  // zlib reports broken input with Z_ codes (Z_DATA_ERROR, Z_BUF_ERROR for a truncated stream).
  const code = (err as { code?: unknown }).code;
  return (err as { [LAYER_FAULT]?: boolean })[LAYER_FAULT] === true || (typeof code === 'string' && code.startsWith('Z_'));
}
