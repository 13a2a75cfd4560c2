// What a running containerd says about itself, read through ctr: its
// version (client and server), and its snapshotter plugins, each with its
// status and exports, from `ctr plugins ls --detailed`.

/** A snapshotter plugin as `ctr plugins ls` shows it. */
export interface SnapshotterPlugin {
  id: string;
  /** As ctr's STATUS column: ok, skip (the plugin declined to load, e.g. btrfs off btrfs) or error. */
  status: 'ok' | 'skip' | 'error';
  /** Such as root, the directory its snapshots are under. */
  exports: Record<string, string>;
  /** Why it did not load, when it did not. */
  error?: string;
}

export const SNAPSHOTTER_PLUGIN_TYPE = 'io.containerd.snapshotter.v1';

/**
 * The plugins `ctr plugins ls --detailed` printed: one block per plugin,
 * "Type:", "ID:", then "Exports:" and "Error:" each with indented lines
 * below (aligned by ctr's tabwriter, so fields are split on whitespace).
 */
export function parseSnapshotterPlugins(printed: string): SnapshotterPlugin[] {
  const plugins: SnapshotterPlugin[] = [];
  for (const block of printed.split(/^(?=Type:)/m).filter((b) => b.startsWith('Type:'))) {
    const fields = new Map<string, string[]>();
    let section = '';
    for (const line of block.split('\n')) {
      const top = /^(\w[\w ]*):\s*(.*)$/.exec(line);
      if (top) {
        section = top[1];
        fields.set(section, top[2] === '' ? [] : [top[2].trim()]);
      } else if (line.trim() !== '') {
        fields.get(section)?.push(line.trim());
      }
    }
    if (fields.get('Type')?.[0] !== SNAPSHOTTER_PLUGIN_TYPE) continue;
    const exported = Object.fromEntries((fields.get('Exports') ?? []).map((line) => /^(\S+)\s+(.*)$/.exec(line)).filter((m) => m !== null).map((m) => [m[1], m[2]]));
    const message = (fields.get('Error') ?? []).map((line) => /^Message:\s*(.*)$/.exec(line)?.[1]).find((m) => m !== undefined);
    const status = !fields.has('Error') ? 'ok' : message?.includes('skip plugin') ? 'skip' : 'error';
    plugins.push({ id: fields.get('ID')?.[0] ?? '', status, exports: exported, ...(status === 'ok' ? {} : { error: message ?? 'no message' }) });
  }
  return plugins;
}

/** The versions `ctr version` printed: its own (Client:) and containerd's (Server:). */
export function parseVersions(printed: string): { client: string; server: string } {
  const version = (side: string) => new RegExp(`^${side}:\\s*\\n\\s*Version:\\s*(\\S+)`, 'm').exec(printed)?.[1];
  const [client, server] = [version('Client'), version('Server')];
  if (client === undefined || server === undefined) throw new Error(`ctr version printed ${JSON.stringify(printed.trim())}, not a client's and a server's version`);
  return { client, server };
}
