// Platforms: parsing `os/arch[/variant]`, the host's own, and picking the
// matching manifest of an index as containerd's platform matcher does
// (amd64 ignores variants; arm64 without a variant means v8).
import { invalidArgument } from '../errdefs';
import type { Platform } from './types';

const NODE_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function hostPlatform(): Platform {
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  return { os: process.platform === 'win32' ? 'windows' : process.platform, architecture, ...(architecture === 'arm' ? { variant: 'v7' } : {}) };
}

export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw invalidArgument(`platform ${JSON.stringify(text)} is not os/arch[/variant]`);
  }
  const [os, architecture, variant] = parts;
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

function normalVariant(platform: Platform): string | undefined {
  if (platform.architecture === 'amd64') return undefined;
  if (platform.architecture === 'arm64') return platform.variant ?? 'v8';
  return platform.variant;
}

export function platformMatches(wanted: Platform, offered: Platform | undefined): boolean {
  if (!offered) return false;
  if (wanted.os !== offered.os || wanted.architecture !== offered.architecture) return false;
  return normalVariant(wanted) === undefined || normalVariant(wanted) === normalVariant(offered);
}
