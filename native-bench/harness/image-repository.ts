// Where the bench's containerd arms push their images and pull them from:
// a repository in a registry, either the bench's own docker-registry or the
// user's (--registry), where what the bench pushed is deleted again.
import { execCommand } from './processes';
import { pushLayout, type Registry } from './registry';

export interface ImageRepository {
  /** HOST[:PORT], as ctr's hosts.toml names the registry. */
  host: string;
  /** Pulls reach the registry over plain HTTP. */
  plainHttp: boolean;
  /** Copies an OCI layout, or archive, to NAME:TAG in the repository; its reference. */
  push(layout: string, nameAndTag: string): Promise<string>;
}

/** strata-bench/NAME:TAG in the bench's own registry. */
export function ownRepository(registry: Registry): ImageRepository {
  return {
    host: registry.host,
    plainHttp: true,
    async push(layout, nameAndTag) {
      await registry.push(layout, `strata-bench/${nameAndTag}`);
      return `${registry.host}/strata-bench/${nameAndTag}`;
    },
  };
}

/**
 * skopeo's failure in the registry's own words where it gives them ("The
 * operation is unsupported. (405 Method Not Allowed)"), else its last line.
 */
function registryWords(stderr: string): string {
  // skopeo quotes the registry's JSON answer inside its own log line, escaped.
  const message = /\\?"message\\?":\s*\\?"(.*?)\\?"/.exec(stderr)?.[1];
  const status = /\((\d{3} [^)]*)\)/.exec(stderr)?.[1];
  return message && status ? `${message} (${status})` : (stderr.trim().split('\n').pop() ?? '');
}

export interface UsersRepository extends ImageRepository {
  /** Deletes every image pushed; why the registry refused, or undefined when it did not. */
  removePushed(): Promise<string | undefined>;
}

/** `prefix`/NAME:TAG in the user's registry, `prefix` being HOST[:PORT][/PATH]/strata-bench-ID. */
export function usersRepository(prefix: string, plainHttp: boolean): UsersRepository {
  const pushed = new Set<string>();
  const tls = (flag: string) => (plainHttp ? [`--${flag}=false`] : []);
  return {
    host: prefix.split('/')[0],
    plainHttp,
    async push(layout, nameAndTag) {
      const reference = `${prefix}/${nameAndTag}`;
      await pushLayout(layout, reference, tls('dest-tls-verify'));
      pushed.add(reference);
      return reference;
    },
    async removePushed() {
      for (const reference of pushed) {
        // Part of the run's cleanup, which goes on after an interruption.
        const refused = await execCommand('skopeo', ['delete', ...tls('tls-verify'), `docker://${reference}`], { cleanup: true }).then(
          () => undefined,
          (err: { stderr?: string; message: string }) => registryWords(err.stderr ?? err.message),
        );
        if (refused) return refused;
        pushed.delete(reference);
      }
      return undefined;
    },
  };
}
