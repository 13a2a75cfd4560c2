// The other nodes' mirrors, asked for a blob this node lacks: by HEAD, all at
// once with a short timeout, the first to have it wins. A peer that served
// bytes not matching their digest is left out for a while.
import { lookup } from 'node:dns/promises';

/** Marks a request as coming from a peer: it is answered from the local store only, so requests never loop. */
export const PEER_HEADER = 'x-strata-mirror-peer';

export interface PeerOptions {
  /** Base URLs, http://host:port. */
  urls: string[];
  /** host:port whose A/AAAA records are peers; empty for none. */
  dns: string;
  timeoutMs: number;
  /** How long a peer that served bad bytes is skipped. */
  badForMs: number;
  /** This node's own mirror, never asked. */
  self: string;
}

export interface Located {
  peer: string;
  size: number;
}

export class Peers {
  private readonly badUntil = new Map<string, number>();

  constructor(private readonly options: PeerOptions) {}

  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  async list(): Promise<string[]> {
    const found = [...this.options.urls];
    if (this.options.dns) {
      const colon = this.options.dns.lastIndexOf(':');
      const [host, port] = [this.options.dns.slice(0, colon), this.options.dns.slice(colon + 1)];
      const addresses = await lookup(host, { all: true }).catch(() => []);
      for (const { address, family } of addresses) found.push(`http://${family === 6 ? `[${address}]` : address}:${port}`);
    }
    const now = Date.now();
    return [...new Set(found.map((url) => url.replace(/\/+$/, '')))].filter(
      (url) => url !== this.options.self && (this.badUntil.get(url) ?? 0) <= now,
    );
  }

  markBad(peer: string): void {
    this.badUntil.set(peer, Date.now() + this.options.badForMs);
  }

  /**
   * The first peer that answers HEAD for `path` (and `query`) with 200, or
   * undefined once all have answered otherwise or the timeout passed.
   * `onError` hears of each peer that failed (not of one that lacks it).
   */
  async locate(path: string, query: string, onError: (peer: string, err: unknown) => void): Promise<Located | undefined> {
    const peers = await this.list();
    if (peers.length === 0) return undefined;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    let won = false;
    const ask = async (peer: string): Promise<Located> => {
      try {
        const response = await fetch(`${peer}${path}${query}`, { method: 'HEAD', headers: { [PEER_HEADER]: '1' }, signal: controller.signal });
        const size = Number(response.headers.get('content-length'));
        if (response.status === 200 && Number.isSafeInteger(size)) return { peer, size };
        if (response.status !== 404) onError(peer, new Error(`HEAD ${path}: ${response.status}`));
      } catch (err) {
        if (!won) onError(peer, controller.signal.aborted ? controller.signal.reason : err);
      }
      throw new Error(`${peer} does not have ${path}`);
    };
    try {
      const located = await Promise.any(peers.map(ask));
      won = true;
      return located;
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
      // The others lose the race: their requests go.
      controller.abort();
    }
  }
}
