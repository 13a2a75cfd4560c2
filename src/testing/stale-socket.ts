// A socket file nobody listens on, as a server killed with SIGKILL leaves
// behind: connecting to it is refused.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export async function staleSocket(address: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(address)})`]);
  while (!fs.existsSync(address)) await sleep(20);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
}
