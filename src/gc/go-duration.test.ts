import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDuration } from './go-duration';

test('durations as Go parses them', () => {
  const cases: [string, number | undefined][] = [
    ['0', 0],
    ['5m', 300e9],
    ['1h30m', 5400e9],
    ['1.5s', 1.5e9],
    ['.5s', 0.5e9],
    ['1.s', 1e9],
    ['300ms', 300e6],
    ['2h45m0.5s', 9900.5e9],
    ['10us', 10e3],
    ['10µs', 10e3],
    ['10μs', 10e3],
    ['7ns', 7],
    ['-1h', -3600e9],
    ['+2m', 120e9],
    ['', undefined],
    ['5', undefined],
    ['1d', undefined],
    ['m', undefined],
    ['.s', undefined],
    ['1h ', undefined],
    [' 1h', undefined],
    ['-', undefined],
    ['3000000h', undefined],
  ];
  for (const [text, ns] of cases) assert.equal(parseGoDuration(text), ns, JSON.stringify(text));
});
