// The benchmark's own images: deterministic, shaped like the layers people
// unpack. Each is a list of layers; a layer adds its entries to a tar through
// a LayerBuilder. `scale` shrinks an image for --quick (1 is full size).
import { Corpus, Random } from './corpus';
import type { LayerBuilder } from './layer-builder';

export type FillLayer = (builder: LayerBuilder) => Promise<void>;

export interface GeneratedImage {
  name: string;
  description: string;
  layers: FillLayer[];
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** A source of numbered, distinct file contents. */
class Files {
  private n = 0;
  private readonly corpus = Corpus.get();

  constructor(readonly random: Random) {}

  text(size: number): Buffer {
    return this.corpus.textFile(this.n++, size);
  }

  binary(size: number): Buffer {
    return this.corpus.binaryFile(this.n++, size);
  }
}

const count = (full: number, scale: number) => Math.max(1, Math.round(full * scale));

/** node_modules: thousands of packages of small JavaScript files, with the odd large bundle. */
async function nodeModules(b: LayerBuilder, files: Files, packages: number, root = 'app/node_modules'): Promise<void> {
  const { random } = files;
  await b.dir(root.split('/')[0]);
  await b.dir(root);
  for (let p = 0; p < packages; p++) {
    const pkg = `${root}/pkg-${p.toString(36)}`;
    await b.dir(pkg);
    await b.file(`${pkg}/package.json`, files.text(random.size(300, 2 * KiB)));
    await b.file(`${pkg}/README.md`, files.text(random.size(500, 12 * KiB)));
    await b.file(`${pkg}/LICENSE`, files.text(1100));
    await b.file(`${pkg}/index.js`, files.text(random.size(100, 4 * KiB)));
    for (const sub of ['lib', 'dist']) {
      await b.dir(`${pkg}/${sub}`);
      for (let f = random.int(2, 9); f > 0; f--) {
        await b.file(`${pkg}/${sub}/m${f}.js`, files.text(random.size(200, 24 * KiB)));
        if (random.next() % 3 === 0) await b.file(`${pkg}/${sub}/m${f}.d.ts`, files.text(random.size(100, 4 * KiB)));
        if (random.next() % 4 === 0) await b.file(`${pkg}/${sub}/m${f}.js.map`, files.text(random.size(1 * KiB, 64 * KiB)));
      }
    }
    if (random.next() % 40 === 0) await b.file(`${pkg}/dist/bundle.min.js`, files.text(random.size(256 * KiB, 2 * MiB)));
    if (random.next() % 25 === 0) await b.symlink(`${pkg}/bin`, '../.bin');
  }
}

/** A Debian-like root filesystem: binaries, libraries with version symlinks, docs, dpkg's database, config. */
async function distroRootfs(b: LayerBuilder, files: Files, scale: number): Promise<void> {
  const { random } = files;
  for (const dir of ['etc', 'usr', 'usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib/x86_64-linux-gnu', 'usr/share', 'usr/share/doc', 'usr/share/man', 'usr/share/man/man1', 'var', 'var/lib', 'var/lib/dpkg', 'var/lib/dpkg/info', 'root', 'home']) {
    await b.dir(dir, dir === 'root' ? 0o700 : 0o755);
  }
  await b.dir('tmp', 0o1777);
  for (const link of ['bin', 'sbin', 'lib', 'lib64']) await b.symlink(link, `usr/${link === 'lib64' ? 'lib' : link}`);
  for (let i = 0; i < count(300, scale); i++) await b.file(`etc/conf-${i}.conf`, files.text(random.size(50, 6 * KiB)));
  for (let i = 0; i < count(700, scale); i++) {
    const name = `usr/bin/tool-${i}`;
    const mode = i % 97 === 0 ? 0o4755 : 0o755;
    await b.file(name, files.binary(random.size(8 * KiB, 1 * MiB)), mode);
    if (i % 50 === 0) await b.hardlink(`usr/bin/tool-${i}-alias`, name);
  }
  for (let i = 0; i < count(400, scale); i++) {
    const lib = `usr/lib/x86_64-linux-gnu/libthing${i}.so`;
    await b.file(`${lib}.${i % 5}.${i % 3}.0`, files.binary(random.size(16 * KiB, 2 * MiB)));
    await b.symlink(`${lib}.${i % 5}`, `libthing${i}.so.${i % 5}.${i % 3}.0`);
  }
  for (let i = 0; i < count(900, scale); i++) {
    const pkg = `usr/share/doc/package-${i}`;
    await b.dir(pkg);
    await b.file(`${pkg}/copyright`, files.text(random.size(500, 20 * KiB)));
    await b.file(`${pkg}/changelog.Debian.gz`, files.binary(random.size(300, 8 * KiB)));
  }
  for (let i = 0; i < count(1200, scale); i++) await b.file(`usr/share/man/man1/tool-${i}.1.gz`, files.binary(random.size(400, 9 * KiB)));
  for (let i = 0; i < count(2000, scale); i++) await b.file(`var/lib/dpkg/info/package-${i % 900}.${['list', 'md5sums', 'postinst'][i % 3]}`, files.text(random.size(100, 12 * KiB)));
}

/** A toolchain: thousands of source files in a deep package tree, and some large binaries. */
async function toolchain(b: LayerBuilder, files: Files, scale: number): Promise<void> {
  const { random } = files;
  await b.dir('usr/local');
  await b.dir('usr/local/go');
  for (const dir of ['bin', 'pkg', 'pkg/tool', 'src']) await b.dir(`usr/local/go/${dir}`);
  for (let i = 0; i < count(24, scale); i++) await b.file(`usr/local/go/pkg/tool/tool-${i}`, files.binary(random.size(2 * MiB, 16 * MiB)), 0o755);
  for (const name of ['go', 'gofmt']) await b.file(`usr/local/go/bin/${name}`, files.binary(count(14 * MiB, scale)), 0o755);
  const packages = count(700, scale);
  for (let p = 0; p < packages; p++) {
    const dir = `usr/local/go/src/${['net', 'crypto', 'internal', 'cmd', 'runtime'][p % 5]}/p${p}`;
    if (p < 5) await b.dir(dir.slice(0, dir.lastIndexOf('/')));
    await b.dir(dir);
    for (let f = random.int(6, 20); f > 0; f--) {
      await b.file(`${dir}/f${f}.go`, files.text(random.size(500, 40 * KiB)));
      if (f % 3 === 0) await b.file(`${dir}/f${f}_test.go`, files.text(random.size(300, 20 * KiB)));
    }
  }
}

export const GENERATORS: Record<string, (scale: number) => GeneratedImage> = {
  'node-modules': (scale) => {
    const files = new Files(new Random(11));
    return {
      name: 'node-modules',
      description: 'node_modules: over 50,000 small JavaScript files',
      layers: [(b) => nodeModules(b, files, count(2200, scale))],
    };
  },
  'large-binaries': (scale) => {
    const files = new Files(new Random(12));
    return {
      name: 'large-binaries',
      description: 'four 64 MiB binaries and a few small files',
      layers: [
        async (b) => {
          await b.dir('opt');
          await b.dir('opt/app');
          for (let i = 0; i < 4; i++) await b.file(`opt/app/engine-${i}`, files.binary(count(64 * MiB, scale)), 0o755);
          for (let i = 0; i < 8; i++) await b.file(`opt/app/config-${i}.json`, files.text(2 * KiB));
        },
      ],
    };
  },
  'distro-rootfs': (scale) => {
    const files = new Files(new Random(13));
    return { name: 'distro-rootfs', description: 'a Debian-like root filesystem', layers: [(b) => distroRootfs(b, files, scale)] };
  },
  'deep-trees': (scale) => {
    const files = new Files(new Random(14));
    return {
      name: 'deep-trees',
      description: 'directory chains 64 levels deep, two small files at every level',
      layers: [
        async (b) => {
          for (let tree = 0; tree < count(120, scale); tree++) {
            let dir = `t${tree}`;
            for (let depth = 0; depth < 64; depth++) {
              await b.dir(dir);
              await b.file(`${dir}/a.txt`, files.text(files.random.size(64, 2 * KiB)));
              await b.file(`${dir}/b.txt`, files.text(files.random.size(64, 2 * KiB)));
              dir = `${dir}/d${depth}`;
            }
          }
        },
      ],
    };
  },
  whiteouts: (scale) => {
    const files = new Files(new Random(15));
    const dirs = count(400, scale);
    return {
      name: 'whiteouts',
      description: 'a lower layer of 12,000 files, then one of whiteouts, opaque dirs and replacements',
      layers: [
        async (b) => {
          await b.dir('data');
          for (let d = 0; d < dirs; d++) {
            await b.dir(`data/d${d}`);
            for (let f = 0; f < 30; f++) await b.file(`data/d${d}/f${f}`, files.text(files.random.size(100, 8 * KiB)));
          }
        },
        async (b) => {
          await b.dir('data');
          for (let d = 0; d < dirs; d++) {
            const dir = `data/d${d}`;
            if (d % 10 === 0) {
              // The whole directory goes.
              await b.whiteout('data', `d${d}`);
              continue;
            }
            await b.dir(dir);
            if (d % 4 === 0) {
              await b.opaque(dir);
              for (let f = 0; f < 5; f++) await b.file(`${dir}/new${f}`, files.text(2 * KiB));
              continue;
            }
            for (let f = 0; f < 30; f += 3) await b.whiteout(dir, `f${f}`);
            // A file replaced by a directory.
            await b.dir(`${dir}/f1`);
            await b.file(`${dir}/f1/inside`, files.text(512));
          }
        },
      ],
    };
  },
  'multi-layer': (scale) => {
    const files = new Files(new Random(16));
    return {
      name: 'multi-layer',
      description: 'six layers, over 500 MB and 13,000 files: a rootfs, a toolchain, dependencies, an app',
      layers: [
        (b) => distroRootfs(b, files, scale * 0.6),
        async (b) => {
          await b.dir('usr');
          await toolchain(b, files, scale);
        },
        (b) => nodeModules(b, files, count(250, scale)),
        async (b) => {
          await b.dir('app');
          await b.dir('app/bin');
          for (let i = 0; i < 4; i++) await b.file(`app/bin/service-${i}`, files.binary(count(10 * MiB, scale)), 0o755);
        },
        async (b) => {
          await b.dir('etc');
          for (let i = 0; i < 20; i++) await b.file(`etc/app-${i}.yaml`, files.text(3 * KiB));
          await b.whiteout('etc', 'conf-1.conf');
        },
        async (b) => {
          await b.dir('app');
          await b.file('app/VERSION', Buffer.from('1.0.0\n'));
        },
      ],
    };
  },
};

export const IMAGE_NAMES = Object.keys(GENERATORS);
