// The arms' names, shared by the arms and by the report that pairs them up.
// containerd's end-to-end arms are named by the snapshotter they run on.

export const ARM = {
  strataApply: (backend: 'overlayfs' | 'native') => `strata ${backend}`,
  strataApplyParallel: (backend: 'overlayfs' | 'native') => `strata ${backend}, layers in parallel`,
  referenceApply: (layout: 'overlay' | 'native') => `containerd Go ${layout}`,
  referenceStage: (mode: 'decompress' | 'parse') => `containerd Go ${mode}`,
  limit: 'tar -x (limit)',
  strataStage: (mode: 'decompress' | 'parse') => (mode === 'decompress' ? 'strata decompress (zlib, zstd-napi)' : 'strata parse (tar-stream)'),
  cliDecompress: 'decompress CLI',
  ctrImport: (snapshotter: string, unpack: boolean) => `ctr import ${snapshotter}${unpack ? '' : ' --no-unpack'}`,
  ctrPull: (snapshotter: string) => `ctr pull ${snapshotter}`,
  ctrPullMirror: 'ctr pull strata, layers from a peer mirror',
  secondNamespacePull: (snapshotter: string) => `pull into a second namespace ${snapshotter}`,
  firstContainer: (snapshotter: string) => `pull to first container ${snapshotter}`,
  removal: (snapshotter: string) => `remove and collect ${snapshotter}`,
} as const;
