import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/**
 * Two freePort() calls in a network namespace of its own, whose ephemeral
 * range starts at `ephemeralLow` (ip_local_port_range is per namespace),
 * with the ports `held` bound first: what they printed. Killed after 10 s.
 */
function freePortsIn(ephemeralLow: number, held: number[]): string {
  const script = `
    const net = require('node:net');
    const { freePort } = require(${JSON.stringify(require.resolve('./registry'))});
    Promise.all(${JSON.stringify(held)}.map((port) => new Promise((resolve) => net.createServer().listen(port, '127.0.0.1', resolve))))
      .then(() => freePort())
      .then(() => freePort())
      .then((port) => console.log(port), (err) => console.log(err.message))
      .then(() => process.exit(0));`;
  const setup = `ip link set lo up && sysctl -qw net.ipv4.ip_local_port_range="${ephemeralLow} 60999"`;
  // --kill-child and exec: the SIGKILL that ends unshare ends the node that may be spinning too.
  const child = spawnSync('unshare', ['--net', '--kill-child', 'sh', '-c', `${setup} && exec "$0" -e "$1"`, process.execPath, script], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
  return child.stdout;
}

test('freePort gives up where no port is to be had, instead of picking for ever', () => {
  assert.match(freePortsIn(1100, []), /^10\d\d\n$/);
  // Nothing below an ephemeral range from 1024 up: its one pick was 1024, which the second call had handed out already.
  assert.equal(freePortsIn(1024, []), 'no free port on 127.0.0.1 from 1024 up to 1024, where the ephemeral range (ip_local_port_range) starts\n');
  const all = Array.from({ length: 10 }, (_, i) => 1024 + i);
  assert.equal(freePortsIn(1034, all), 'no free port on 127.0.0.1 from 1024 up to 1034, where the ephemeral range (ip_local_port_range) starts\n');
});
