// containerd's own filter parser and matcher as a long-lived child process
// (test/support/go/filters), the reference model the filter fuzz test
// compares strata's src/filters against, one JSON line each way per request.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { buildGoProgram } from '../../native-bench/go-build';
import { packageRoot } from '../../src/package-root';

export interface FilterObject {
  /** One-element field paths: name, kind, parent... Absent when not a key. */
  fields: Record<string, string>;
  /** labels.K1.K2... looks up the label "K1.K2...". */
  labels: Record<string, string>;
}

export interface ContainerdAnswer {
  /** ParseAll's error message, '' when the filters parse. */
  error: string;
  /** Whether each object matches; empty when they do not parse. */
  matches: boolean[];
}

export class ContainerdFilters {
  private readonly lines: Interface;
  private readonly pending: ((line: string) => void)[] = [];
  private exited: Error | undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (err) => (this.exited ??= err));
    child.on('close', (code, signal) => {
      this.exited ??= new Error(`containerd filters helper exited (${signal ?? code}): ${stderr.trim()}`);
      for (const resolve of this.pending.splice(0)) resolve('');
    });
  }

  /**
   * Builds the helper, once per change of its source, into a cache under the
   * temp dir, one per checkout so that worktrees do not build each other's.
   */
  static async start(): Promise<ContainerdFilters> {
    const source = path.join(packageRoot(), 'test', 'support', 'go', 'filters');
    const checkout = createHash('sha256').update(source).digest('hex').slice(0, 12);
    const binary = await buildGoProgram(source, 'containerd-filters', path.join(os.tmpdir(), `strata-go-${checkout}`));
    return new ContainerdFilters(spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  async evaluate(filters: readonly string[], objects: readonly FilterObject[]): Promise<ContainerdAnswer> {
    if (this.exited) throw this.exited;
    const line = new Promise<string>((resolve) => this.pending.push(resolve));
    this.child.stdin.write(`${JSON.stringify({ filters, objects })}\n`);
    const answer = await line;
    if (this.exited) throw this.exited;
    return JSON.parse(answer) as ContainerdAnswer;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exit = new Promise((resolve) => this.child.once('close', resolve));
    this.child.stdin.end();
    await exit;
    this.lines.close();
  }
}
