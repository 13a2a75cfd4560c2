// End to end: a real containerd 1.6 with its own content store disabled
// keeps every blob in strata, which serves Content and Snapshots on one
// socket. Everything is done with ctr, as a user would; strata's root is read
// only through the agreed blob layout, <root>/content/blobs/sha256/<hex>.
//
// How containerd 1.6 uses a proxy content store decides what each step can
// prove. Its metadata layer (boltdb) sits in front of strata: blob listings,
// sizes, ages and labels come from boltdb, so `ctr content ls` and
// `ctr content label` never reach strata. Reads (`ctr content get`,
// `ctr images check`, unpacking) and writes (import, ingest) do, and so does
// `ctr content active` (one Status per ingest). A blob leaves strata only when
// the garbage collector runs (List, then Delete for what boltdb no longer
// has): this containerd collects on every deletion, and the test asks for
// synchronous collections to know when one has finished. Hence the check of
// strata's root next to every listing.
import * as assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { extract } from 'tar-stream';
import { tearDown } from '../support/teardown';
import { NAMESPACE, startContainerd, type Containerd } from '../../native-bench/harness/containerd';
import { EDGE_CASE_IMAGE, edgeCaseLayers } from '../support/edge-case-layers';
import { mountPrintedCommands } from '../../native-bench/harness/mounts';
import { buildOciArchive, type OciArchive } from '../support/oci-archive';
import { startStrata, type Strata } from '../../native-bench/harness/strata';
import { dir, file } from '../support/tar-entries';

/** containerd's names for the two halves of the one strata server. */
const execFileAsync = promisify(execFile);

const SNAPSHOTTER = 'strata';
const CONTENT_STORE = 'strata-content';

/**
 * By default `ctr images import` keeps only the manifests as images and drops
 * the index, whose blob the next garbage collection then deletes. Naming the
 * index keeps it, so every blob of the archive has to stay in strata.
 */
const INDEX_IMAGE = 'docker.io/strata-e2e/edge-cases:index';
const ZSTD_IMAGE = 'docker.io/strata-e2e/busybox:zstd';

const MiB = 1024 * 1024;
/** Size of the blobs written with `ctr content ingest`: several of containerd's 1 MiB read chunks, and an odd tail. */
const INGEST_SIZE = 3 * MiB + 4321;
/**
 * How much of such a blob is sent before the writer is killed. ctr sends
 * its input in 1 MiB writes, each only once it has read a full MiB (or the
 * end), so this has to be whole MiBs for ctr to pass all of it on.
 */
const SENT_BEFORE_KILL = 2 * MiB;

const CTR_TIMEOUT_MS = 30_000;

interface Blob {
  /** What the blob is, for messages. */
  role: string;
  digest: string;
  data: Buffer;
}

interface ListedBlob {
  /** Human-readable, as ctr prints it. */
  size: string;
  labels: Record<string, string>;
}

interface CheckedImage {
  name: string;
  mediaType: string;
  digest: string;
  status: string;
  size: string;
  unpacked: string;
}

/** Everything the steps read back, to compare before and after a restart. */
interface ContentState {
  listing: [string, ListedBlob][];
  strataFiles: string[];
  images: CheckedImage[];
}

/** A ctr invocation gave up on by the test, or one that could not go on; not worth retrying. */
class GiveUp extends Error {}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** go-units HumanSize, which ctr uses for sizes and offsets: 4 significant digits, powers of 1000. */
function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < units.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${Number(size.toPrecision(4))}${units[unit]}`;
}

/** Deterministic, incompressible bytes that differ for every role. */
function syntheticBlob(role: string, size: number): Blob {
  const data = Buffer.alloc(size);
  let block = createHash('sha512').update(role).digest();
  for (let offset = 0; offset < size; offset += block.length) {
    block = createHash('sha512').update(block).digest();
    block.copy(data, offset);
  }
  return { role, digest: sha256(data), data };
}

/** Every blob `ctr images import` stores from an OCI archive: index.json and each file under blobs/sha256/. */
async function blobsOfArchive(image: OciArchive): Promise<Blob[]> {
  const files = new Map<string, Buffer>();
  const extractor = extract();
  const reading = (async () => {
    for await (const entry of extractor) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
      if (entry.header.type === 'file') files.set(entry.header.name, Buffer.concat(chunks));
    }
  })();
  await Promise.all([pipeline(fs.createReadStream(image.archivePath), extractor), reading]);

  const index = files.get('index.json');
  assert.ok(index, 'the archive has no index.json');
  const blobs: Blob[] = [{ role: 'index', digest: sha256(index), data: index }];
  for (const [name, data] of files) {
    if (!name.startsWith('blobs/sha256/')) continue;
    const digest = `sha256:${name.slice('blobs/sha256/'.length)}`;
    assert.equal(sha256(data), digest, `${name} in the archive does not hash to its name`);
    const layer = image.layerDigests.indexOf(digest);
    const role = digest === image.manifestDigest ? 'manifest' : layer >= 0 ? `layer ${layer}` : 'config';
    blobs.push({ role, digest, data });
  }
  // One config, and no two layers alike: otherwise the roles above would be wrong.
  assert.equal(new Set(image.layerDigests).size, image.layerDigests.length, 'two layers of the test image are identical');
  assert.equal(blobs.length, 3 + image.layerDigests.length, `unexpected blobs in the archive: ${blobs.map((b) => b.role).join(', ')}`);
  return blobs;
}

/** Rows of ctr's tab-separated tables (tabwriter padding with tabs), header checked and dropped. */
function tableRows(output: string, header: RegExp, command: string): string[][] {
  const lines = output.split('\n').filter((line) => line.trim() !== '');
  assert.match(lines[0] ?? '', header, `unexpected output from ${command}:\n${output}`);
  return lines.slice(1).map((line) => line.split(/\t+/).filter((cell) => cell !== ''));
}

function parseLabels(cell: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (cell === '-') return labels;
  for (const pair of cell.split(',')) {
    const equals = pair.indexOf('=');
    assert.ok(equals > 0, `unexpected label ${JSON.stringify(pair)} from ctr content ls`);
    labels[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return labels;
}

/** `ctr images check` rows; its table is padded with spaces and STATUS and SIZE hold spaces themselves. */
function parseImageCheck(output: string): CheckedImage[] {
  const lines = output.split('\n').filter((line) => line.trim() !== '');
  assert.match(lines[0] ?? '', /^REF\s+TYPE\s+DIGEST\s+STATUS\s+SIZE\s+UNPACKED/, `unexpected output from ctr images check:\n${output}`);
  const row =
    /^(\S+) +(\S+) +(sha256:[0-9a-f]{64}) +((?:complete|incomplete) \(\d+\/\d+\)|unavailable \(\d+\/\?\)|error) +(.+?) +(true|false) *$/;
  return lines
    .slice(1)
    .map((line) => {
      const match = row.exec(line);
      assert.ok(match, `unexpected row from ctr images check: ${JSON.stringify(line)}`);
      const [, name, mediaType, digest, status, size, unpacked] = match;
      return { name, mediaType, digest, status, size, unpacked };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe('strata as the content store of a real containerd 1.6', { timeout: 150_000 }, () => {
  let workDir = '';
  let strataRoot = '';
  let image: OciArchive;
  /** The archive's blobs: index, manifest, config and layers. */
  let imageBlobs: Blob[] = [];
  let strata: Strata | undefined;
  let containerd: Containerd | undefined;
  const children = new Set<ChildProcess>();
  let leases = 0;

  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'strata-e2e-content-'));
    image = await buildOciArchive({ dir: workDir, imageName: EDGE_CASE_IMAGE, layers: edgeCaseLayers, compression: 'gzip' });
    imageBlobs = await blobsOfArchive(image);
    strataRoot = path.join(workDir, 'strata-root');
    await fs.promises.mkdir(strataRoot);
    const socket = path.join(workDir, 'strata.sock');
    strata = await startStrata({ root: strataRoot, address: socket, backend: 'overlayfs', logFile: path.join(workDir, 'strata.log') });
    containerd = await startContainerd(
      { [SNAPSHOTTER]: socket },
      {
        proxyContentStores: { [CONTENT_STORE]: socket },
        disabledPlugins: ['io.containerd.content.v1.content'],
        garbageCollection: 'on-deletion',
      },
    );
  });

  after(() =>
    tearDown(workDir, [
      () => children.forEach((child) => child.kill('SIGKILL')),
      () => containerd?.stop(),
      () => strata?.stop(),
    ]),
  );

  function running(): Containerd {
    assert.ok(containerd, 'containerd is not running');
    return containerd;
  }

  function containerdLog(): string {
    try {
      return running().logTail();
    } catch (error) {
      return `(no containerd log: ${String(error)})`;
    }
  }

  /**
   * Runs ctr against the test's containerd and namespace; resolves with its
   * stdout, rejects with its stderr. Killed after `timeoutMs`: a request that
   * hangs in strata must fail the test, not stall it.
   */
  function runCtr(args: string[], options: { stdin?: number; timeoutMs?: number } = {}): Promise<Buffer> {
    const command = `ctr ${args.join(' ')}`;
    const child = spawn('ctr', ['--address', running().address, '-n', NAMESPACE, ...args], {
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? CTR_TIMEOUT_MS);
    return new Promise<Buffer>((resolve, reject) => {
      child.once('error', (error) => {
        clearTimeout(timer);
        children.delete(child);
        reject(new GiveUp(`${command}: ${error.message}`));
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        children.delete(child);
        const message = Buffer.concat(stderr).toString('utf8').trim();
        if (timedOut) reject(new GiveUp(`${command} did not finish within ${options.timeoutMs ?? CTR_TIMEOUT_MS}ms: ${message}`));
        else if (code !== 0) reject(new Error(`${command} failed (${signal ?? `exit ${code}`}): ${message}`));
        else resolve(Buffer.concat(stdout));
      });
    });
  }

  async function ctr(args: string[], timeoutMs?: number): Promise<string> {
    return (await runCtr(args, { timeoutMs })).toString('utf8');
  }

  /** Retries `attempt` until it succeeds or `timeoutMs` is over (then throws its last error); a GiveUp ends it at once. */
  async function eventually<T>(attempt: () => Promise<T>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (error instanceof GiveUp || Date.now() > deadline) throw error;
        await sleep(200);
      }
    }
  }

  /** `ctr content ls`: digest → size and labels. */
  async function listContent(): Promise<Map<string, ListedBlob>> {
    const rows = tableRows(await ctr(['content', 'ls']), /^DIGEST\s+SIZE\s+AGE\s+LABELS/, 'ctr content ls');
    const listed = new Map<string, ListedBlob>();
    for (const cells of rows) {
      assert.equal(cells.length, 4, `unexpected row from ctr content ls: ${JSON.stringify(cells)}`);
      const [digest, size, , labels] = cells;
      listed.set(digest, { size, labels: parseLabels(labels) });
    }
    return listed;
  }

  /** `ctr content active`: ref → offset, human-readable. */
  async function activeIngests(): Promise<Map<string, string>> {
    const rows = tableRows(await ctr(['content', 'active']), /^REF\s+SIZE\s+AGE/, 'ctr content active');
    return new Map(rows.map((cells) => [cells[0], cells[1]]));
  }

  async function checkImages(): Promise<CheckedImage[]> {
    return parseImageCheck(await ctr(['images', 'check', '--snapshotter', SNAPSHOTTER]));
  }

  /**
   * A full garbage collection, finished when this returns: deleting a lease
   * with --sync makes containerd collect and wait for the collection.
   */
  async function collectGarbage(): Promise<void> {
    const id = `e2e-gc-${++leases}`;
    await ctr(['leases', 'create', '--id', id]);
    await ctr(['leases', 'rm', '--sync', id]);
  }

  function strataBlobPath(digest: string): string {
    return path.join(strataRoot, 'content', 'blobs', 'sha256', digest.slice('sha256:'.length));
  }

  /** Digests of the files in strata's blob directory, sorted. */
  async function strataBlobs(): Promise<string[]> {
    try {
      const names = await fs.promises.readdir(path.join(strataRoot, 'content', 'blobs', 'sha256'));
      return names.map((name) => `sha256:${name}`).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** The blob is in containerd's listing with its size, in strata's root with its bytes, and reads back whole. */
  async function assertStored(blob: Blob, listed?: Map<string, ListedBlob>): Promise<void> {
    const entry = (listed ?? (await listContent())).get(blob.digest);
    assert.ok(entry, `${blob.role} ${blob.digest} is missing from ctr content ls`);
    assert.equal(entry.size, humanSize(blob.data.length), `size of ${blob.role} in ctr content ls`);
    let stored: Buffer;
    try {
      stored = await fs.promises.readFile(strataBlobPath(blob.digest));
    } catch (error) {
      assert.fail(`${blob.role} ${blob.digest} is not in strata's root: ${String(error)}`);
    }
    assert.equal(stored.length, blob.data.length, `size of ${blob.role} in strata's root`);
    assert.equal(sha256(stored), blob.digest, `${blob.role} in strata's root does not hash to its digest`);
    await assertReadsBack(blob);
  }

  async function assertReadsBack(blob: Blob): Promise<void> {
    const read = await runCtr(['content', 'get', blob.digest]);
    assert.equal(read.length, blob.data.length, `ctr content get ${blob.role}: wrong length`);
    assert.equal(sha256(read), blob.digest, `ctr content get ${blob.role}: bytes do not hash to the digest`);
  }

  async function contentState(): Promise<ContentState> {
    const listing = [...(await listContent())].sort(([a], [b]) => a.localeCompare(b));
    return { listing, strataFiles: await strataBlobs(), images: await checkImages() };
  }

  function ingestArgs(ref: string, blob: Blob): string[] {
    return ['content', 'ingest', '--expected-digest', blob.digest, '--expected-size', String(blob.data.length), ref];
  }

  /**
   * Starts `ctr content ingest` on a pipe, sends it the first `sent` bytes of
   * `blob` and, once containerd reports the ingest at that offset, kills it.
   * The ingest must then still be there, at the same offset.
   */
  async function interruptedIngest(ref: string, blob: Blob, sent: number): Promise<void> {
    const child = spawn('ctr', ['--address', running().address, '-n', NAMESPACE, ...ingestArgs(ref, blob)], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    children.add(child);
    const exited = new Promise<string>((resolve) => {
      child.once('close', (code, signal) => {
        children.delete(child);
        resolve(signal ?? `exit ${code}`);
      });
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // ctr may end before reading everything; how it ended is what gets reported.
    child.stdin?.on('error', () => undefined);
    // The pipe stays open, so ctr sends what it has and then waits for more.
    child.stdin?.write(blob.data.subarray(0, sent));

    const partial = humanSize(sent);
    try {
      await eventually(async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new GiveUp(`ctr content ingest ${ref} ended before being interrupted (${await exited}): ${stderr.trim()}`);
        }
        const offset = (await activeIngests()).get(ref);
        assert.equal(offset, partial, `ctr content active: offset of ${ref} while ${sent} bytes were sent`);
      }, 15_000);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }

    // Killing the writer cancels containerd's write stream to strata; what was written stays.
    await eventually(async () => {
      const offset = (await activeIngests()).get(ref);
      assert.equal(offset, partial, `ctr content active: offset of ${ref} after its writer was killed`);
    }, 5_000);
    const listed = await listContent();
    assert.equal(listed.has(blob.digest), false, `${blob.role} listed as a blob before its ingest was committed`);
    assert.equal(fs.existsSync(strataBlobPath(blob.digest)), false, `${blob.role} in strata's blobs before its ingest was committed`);
  }

  /** `ctr content ingest REF < FILE`, stdin a regular file: ctr can seek it to resume where the ingest stands. */
  async function ingestFromFile(ref: string, blob: Blob, contents: Buffer = blob.data): Promise<void> {
    const file = path.join(workDir, `${ref}.data`);
    await fs.promises.writeFile(file, contents);
    const handle = await fs.promises.open(file, 'r');
    try {
      await runCtr(ingestArgs(ref, blob), { stdin: handle.fd });
    } finally {
      await handle.close();
      await fs.promises.rm(file);
    }
  }

  /** After a commit the ingest is gone and the blob is stored. */
  async function assertCommitted(ref: string, blob: Blob): Promise<void> {
    assert.equal((await activeIngests()).has(ref), false, `${ref} still active after its commit`);
    await assertStored(blob);
  }

  /** Stops strata, starts it again on the same root and socket, and waits until containerd can read from it. */
  async function restartStrata(probe: () => Promise<unknown>): Promise<void> {
    assert.ok(strata, 'strata is not running');
    const { options } = strata;
    const stopping = strata;
    strata = undefined;
    await stopping.stop();
    strata = await startStrata(options);
    // containerd's connection to the proxy is in reconnect backoff after the
    // restart and fails requests fast until it is back, so allow it a moment.
    await eventually(probe, 15_000);
  }

  function blobByRole(role: string): Blob {
    const blob = imageBlobs.find((candidate) => candidate.role === role);
    assert.ok(blob, `no ${role} blob in the test image`);
    return blob;
  }

  it('1. ctr images import stores every blob of the image in strata', async () => {
    await ctr(
      ['images', 'import', '--snapshotter', SNAPSHOTTER, '--platform', 'linux/amd64', '--index-name', INDEX_IMAGE, image.archivePath],
      60_000,
    );
    // Whatever the import left unreferenced goes now, not in the middle of a later step.
    await collectGarbage();

    const ownStore = path.join(running().dir, 'root', 'io.containerd.content.v1.content');
    assert.equal(fs.existsSync(ownStore), false, `containerd wrote to its own content store, ${ownStore}`);
    const listed = await listContent();
    for (const blob of imageBlobs) await assertStored(blob, listed);
    const digests = imageBlobs.map((blob) => blob.digest).sort();
    assert.deepEqual([...listed.keys()].sort(), digests, 'ctr content ls lists more than the image');
    assert.deepEqual(await strataBlobs(), digests, "strata's blob directory holds more than the image");

    // Labels containerd added while unpacking into strata's snapshotter.
    const config = listed.get(blobByRole('config').digest);
    assert.equal(config?.labels[`containerd.io/gc.ref.snapshot.${SNAPSHOTTER}`], image.chainIds[image.chainIds.length - 1]);
    image.layerDigests.forEach((digest, layer) => {
      assert.equal(listed.get(digest)?.labels['containerd.io/uncompressed'], image.diffIds[layer], `uncompressed label of layer ${layer}`);
    });
  });

  it('2. ctr content get returns bytes that hash to each digest', async () => {
    for (const blob of imageBlobs) await assertReadsBack(blob);
  });

  it('3. ctr content label adds and removes labels', async () => {
    const layer = blobByRole('layer 0');
    const labelsOf = async (): Promise<Record<string, string>> => (await listContent()).get(layer.digest)?.labels ?? {};
    const original = await labelsOf();

    await ctr(['content', 'label', layer.digest, 'foo=bar', 'doomed=yes']);
    assert.deepEqual(await labelsOf(), { ...original, foo: 'bar', doomed: 'yes' });

    // An empty value removes the label; a bare key would set it to "true".
    await ctr(['content', 'label', layer.digest, 'doomed=']);
    assert.deepEqual(await labelsOf(), { ...original, foo: 'bar' });
  });

  it('4. ctr images check reports the images complete and unpacked', async () => {
    const required = 1 + image.layerDigests.length; // config and layers
    const checked = await checkImages();
    assert.deepEqual(
      checked.map(({ name, digest, status, unpacked }) => ({ name, digest, status, unpacked })),
      [
        { name: EDGE_CASE_IMAGE, digest: image.manifestDigest, status: `complete (${required}/${required})`, unpacked: 'true' },
        { name: INDEX_IMAGE, digest: blobByRole('index').digest, status: `complete (${required}/${required})`, unpacked: 'true' },
      ].sort((a, b) => a.name.localeCompare(b.name)),
    );
    for (const { name, size } of checked) {
      const [present, total] = size.split('/');
      assert.equal(present, total, `${name}: present size ${size}`);
    }
  });

  it('5. a restarted strata gives containerd the same content, labels and images', async () => {
    const before = await contentState();
    assert.equal(before.listing.find(([digest]) => digest === blobByRole('layer 0').digest)?.[1].labels.foo, 'bar');

    await restartStrata(() => assertReadsBack(blobByRole('manifest')));

    assert.deepEqual(await contentState(), before);
    for (const blob of imageBlobs) await assertStored(blob);
  });

  it('6. an interrupted ctr content ingest is resumed with the whole blob', async () => {
    const blob = syntheticBlob('ingested blob', INGEST_SIZE);
    const ref = 'e2e-resume-whole';
    await interruptedIngest(ref, blob, SENT_BEFORE_KILL);
    await ingestFromFile(ref, blob);
    await assertCommitted(ref, blob);
  });

  it('6b. the resumed ingest continues at the stored offset instead of starting over', async () => {
    const blob = syntheticBlob('resumed blob', INGEST_SIZE);
    const ref = 'e2e-resume-offset';
    await interruptedIngest(ref, blob, SENT_BEFORE_KILL);
    // ctr seeks its stdin to the offset strata reports and sends only the
    // rest, so bytes before that offset never leave the file: garble most of
    // them. (ctr showed the offset with 4 significant digits, so it is within
    // 500 bytes of SENT_BEFORE_KILL.) Starting over would commit the garbled
    // bytes.
    const garbled = Buffer.from(blob.data);
    garbled.fill(0x5a, 0, SENT_BEFORE_KILL - 64 * 1024);
    try {
      await ingestFromFile(ref, blob, garbled);
    } catch (error) {
      throw new Error(`the ingest did not resume at its stored offset: ${error instanceof Error ? error.message : String(error)}`);
    }
    await assertCommitted(ref, blob);
  });

  it('6c. a partial ingest survives a strata restart and resumes', async () => {
    const blob = syntheticBlob('blob ingested across a restart', INGEST_SIZE);
    const ref = 'e2e-resume-restart';
    await interruptedIngest(ref, blob, SENT_BEFORE_KILL);
    await restartStrata(async () => {
      assert.equal((await activeIngests()).get(ref), humanSize(SENT_BEFORE_KILL), `offset of ${ref} after the restart`);
    });
    await ingestFromFile(ref, blob);
    await assertCommitted(ref, blob);
  });

  it('7. ctr content rm of unreferenced blobs removes them from strata', async () => {
    const blob = syntheticBlob('unreferenced blob', 200_000);
    await ingestFromFile('e2e-doomed', blob);
    await assertStored(blob);

    const imageDigests = imageBlobs.map((candidate) => candidate.digest).sort();
    // This blob and those the ingest steps left: nothing refers to any of them.
    const unreferenced = [...(await listContent()).keys()].filter((digest) => !imageDigests.includes(digest));
    assert.ok(unreferenced.includes(blob.digest));
    const removed = (await ctr(['content', 'rm', ...unreferenced])).split('\n').filter((line) => line !== '');
    // containerd's GC scheduler may collect some of these unreferenced blobs
    // between the listing and the rm; ctr prints only the ones it deleted.
    for (const digest of removed) assert.ok(unreferenced.includes(digest), `ctr content rm printed ${digest}`);
    assert.deepEqual([...(await listContent()).keys()].sort(), imageDigests, 'ctr content ls after ctr content rm');

    // containerd deletes blobs from its store only when collecting garbage:
    // it lists strata's blobs and deletes those its metadata no longer has.
    await collectGarbage();
    try {
      await eventually(async () => assert.deepEqual(await strataBlobs(), imageDigests), 5_000);
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\ncontainerd log:\n${containerdLog()}`);
    }
    for (const kept of imageBlobs) await assertStored(kept);
    const required = 1 + image.layerDigests.length;
    for (const { name, status } of await checkImages()) {
      assert.equal(status, `complete (${required}/${required})`, `${name} after the garbage collection`);
    }
  });

  it('8. a zstd image of Debian\'s static busybox imports and unpacks through strata', async () => {
    const busybox = await fs.promises.readFile('/bin/busybox');
    const zstdImage = await buildOciArchive({
      dir: await fs.promises.mkdtemp(path.join(workDir, 'zstd-')),
      imageName: ZSTD_IMAGE,
      layers: [[dir('bin', { mode: 0o755 }), file('bin/busybox', busybox, { mode: 0o755 })]],
      compression: 'zstd',
    });
    await ctr(['images', 'import', '--snapshotter', SNAPSHOTTER, '--platform', 'linux/amd64', zstdImage.archivePath], 60_000);
    const checked = (await checkImages()).find((candidate) => candidate.name === ZSTD_IMAGE);
    assert.deepEqual(checked && { status: checked.status, unpacked: checked.unpacked }, { status: 'complete (2/2)', unpacked: 'true' });
    // containerd read the layer from strata to unpack it; the tree must hold busybox, byte for byte.
    const target = path.join(workDir, 'zstd-view');
    await fs.promises.mkdir(target);
    const printed = await ctr(['snapshots', '--snapshotter', SNAPSHOTTER, 'view', '--target', target, 'e2e-zstd-view', zstdImage.chainIds[0]]);
    await mountPrintedCommands(printed, target);
    try {
      assert.ok((await fs.promises.readFile(path.join(target, 'bin', 'busybox'))).equals(busybox), 'bin/busybox differs');
    } finally {
      await execFileAsync('umount', [target]);
      // Nothing references the view: containerd's collector may have taken it already.
      await ctr(['snapshots', '--snapshotter', SNAPSHOTTER, 'rm', 'e2e-zstd-view']).catch((err: Error) => {
        if (!/does not exist: not found/.test(err.message)) throw err;
      });
    }
  });
});
