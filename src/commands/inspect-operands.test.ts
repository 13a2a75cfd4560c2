// --diff's words as commander hands them over: IMAGE after --diff arrives
// as a third value, IMAGE before it as the argument; both mean the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../usage-error';
import { diffOperands, layerNumber } from './inspect-operands';

const usage = (pattern: RegExp) => (err: unknown) => err instanceof UsageError && pattern.test(err.message);

test('--diff A B IMAGE and IMAGE --diff A B are two layers of IMAGE', () => {
  const layers = { kind: 'layers', a: '0', b: '3', layers: [0, 3], image: 'oci:x' };
  assert.deepEqual(diffOperands(['0', '3', 'oci:x'], undefined), layers);
  assert.deepEqual(diffOperands(['0', '3'], 'oci:x'), layers);
});

test('--diff IMAGE1 IMAGE2 is two images, in that order', () => {
  assert.deepEqual(diffOperands(['oci:a', 'oci:b'], undefined), { kind: 'images', a: 'oci:a', b: 'oci:b' });
});

test('what is neither form is bad usage, saying which was meant', () => {
  assert.throws(() => diffOperands(['0', '3'], undefined), usage(/^--diff 0 3: layer numbers need an IMAGE \(--diff 0 3 IMAGE\)$/));
  assert.throws(() => diffOperands(['0', 'oci:b'], undefined), usage(/^--diff 0 oci:b: give two layer numbers and an IMAGE, or two images/));
  assert.throws(() => diffOperands(['oci:a', 'oci:b', 'oci:c'], undefined), usage(/^--diff oci:a oci:b oci:c: with an IMAGE, A and B are layer numbers/));
  assert.throws(() => diffOperands(['oci:a', 'oci:b'], 'oci:c'), usage(/with an IMAGE, A and B are layer numbers/));
  // IMAGE1 --diff IMAGE2 would arrive with the images swapped.
  assert.throws(() => diffOperands(['oci:b'], 'oci:a'), usage(/^--diff takes two values/));
  assert.throws(() => diffOperands(['0', '1', '2'], 'oci:a'), usage(/^--diff takes two values/));
  assert.throws(() => diffOperands(['0'], undefined), usage(/^--diff takes two layers and an IMAGE, or two images/));
  assert.throws(() => diffOperands(['0', '1', '2', 'oci:a'], undefined), usage(/^--diff takes two layers and an IMAGE, or two images/));
  assert.throws(() => diffOperands(['1.5', '2', 'oci:a'], undefined), usage(/^--diff 1\.5: not a layer number \(a whole number, 0 for the lowest layer\)$/));
});

test('a negative layer number is left for the image to refuse, with its range', () => {
  assert.deepEqual(diffOperands(['-1', '0'], 'oci:x'), { kind: 'layers', a: '-1', b: '0', layers: [-1, 0], image: 'oci:x' });
  assert.equal(layerNumber('-1', '--layer'), -1);
  for (const text of ['x', '1.5', '', '1e3', '0x1']) assert.throws(() => layerNumber(text, '--layer'), usage(/^--layer .*: not a layer number/));
});
