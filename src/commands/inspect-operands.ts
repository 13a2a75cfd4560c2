// What `strata inspect`'s --diff and --layer words mean, decided before any
// image is opened: layer numbers, images, or a usage error saying which
// form was meant.
import { UsageError } from '../usage-error';

export type DiffOperands =
  | { kind: 'layers'; a: string; b: string; layers: [number, number]; image: string }
  | { kind: 'images'; a: string; b: string };

const FORMS = '--diff A B IMAGE compares two layers of IMAGE by number, --diff IMAGE1 IMAGE2 two images';

/** A word written as a number is meant as a layer, whole or not. */
const numeric = (word: string) => /^[-+]?(\d+\.?\d*|\.\d+)$/.test(word);

/** A whole number; a negative one passes, to be refused with the image's range once that is known. */
export function layerNumber(text: string, flag: string): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`${flag} ${text}: not a layer number (a whole number, 0 for the lowest layer)`);
  return Number(text);
}

/**
 * commander's variadic --diff takes every word up to the next flag, so
 * `--diff 0 3 IMAGE` (the README's order) arrives as three values and no
 * IMAGE, and `IMAGE --diff 0 3` as two values and an IMAGE: both are the
 * words A B IMAGE. An IMAGE before --diff goes last, so it is taken only
 * with two values; `IMAGE1 --diff IMAGE2` would swap the images.
 */
export function diffOperands(values: string[], image: string | undefined): DiffOperands {
  if (image !== undefined && values.length !== 2) throw new UsageError(`--diff takes two values (${FORMS})`);
  const words = image === undefined ? values : [...values, image];
  if (words.length === 3) {
    const [a, b, of] = words;
    if (!numeric(a) || !numeric(b)) throw new UsageError(`--diff ${a} ${b} ${of}: with an IMAGE, A and B are layer numbers (${FORMS})`);
    return { kind: 'layers', a, b, layers: [layerNumber(a, '--diff'), layerNumber(b, '--diff')], image: of };
  }
  if (words.length !== 2) throw new UsageError(`--diff takes two layers and an IMAGE, or two images (${FORMS})`);
  const [a, b] = words;
  if (numeric(a) && numeric(b)) throw new UsageError(`--diff ${a} ${b}: layer numbers need an IMAGE (--diff ${a} ${b} IMAGE)`);
  if (numeric(a) || numeric(b)) throw new UsageError(`--diff ${a} ${b}: give two layer numbers and an IMAGE, or two images (${FORMS})`);
  return { kind: 'images', a, b };
}
