// One strata server (overlayfs) for a describe block: started before its
// tests in a temp dir of its own, stopped and removed after them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { startStrataServer, type StrataServer } from './strata-grpc';
import { tearDown } from './teardown';

export interface SuiteServerOptions {
  /** The text of a config file. */
  config?: string;
  /** First commit an empty snapshot named "base". */
  base?: boolean;
}

/** Call inside describe(); the getters answer once the suite's before() has run. */
export function suiteServer(name: string, options: SuiteServerOptions = {}): { server: () => StrataServer; workDir: () => string } {
  let workDir = '';
  let server: StrataServer | undefined;
  before(async () => {
    workDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), `strata-e2e-${name}-`));
    server = await startStrataServer(workDir, 'strata', 'overlayfs', options.config);
    if (options.base) {
      await server.snapshots.prepare('base-active');
      await server.snapshots.commit('base', 'base-active');
    }
  });
  after(() => tearDown(workDir, [() => server?.stop()]));
  return { server: () => server as StrataServer, workDir: () => workDir };
}
