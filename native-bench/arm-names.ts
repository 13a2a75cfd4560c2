// The arms' names, shared by the arms and by the report that pairs them up.

export const ARM = {
  strataApply: (backend: 'overlayfs' | 'native') => `strata ${backend}`,
  strataApplyParallel: (backend: 'overlayfs' | 'native') => `strata ${backend}, layers in parallel`,
  referenceApply: (layout: 'overlay' | 'native') => `containerd Go ${layout}`,
  referenceStage: (mode: 'decompress' | 'parse') => `containerd Go ${mode}`,
  limit: 'tar -x (limit)',
  strataStage: (mode: 'decompress' | 'parse') => (mode === 'decompress' ? 'strata decompress (zlib, zstd-napi)' : 'strata parse (tar-stream)'),
  cliDecompress: 'decompress CLI',
  ctrImport: (label: string, unpack: boolean) => `ctr import ${label}${unpack ? '' : ' --no-unpack'}`,
  ctrPull: (label: string) => `ctr pull ${label}`,
  ctrPullMirror: 'ctr pull strata, layers from a peer mirror',
  secondNamespacePull: (label: string) => `pull into a second namespace ${label}`,
  firstContainer: (label: string) => `pull to first container ${label}`,
} as const;
