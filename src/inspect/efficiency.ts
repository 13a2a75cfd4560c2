// dive's efficiency score: every path each layer stores or deletes is seen
// with a size, and the score is the sum over paths of the smallest size seen
// over the sum of all sizes seen. A path stored once scores 1; a file stored
// again or deleted by a later layer lowers it by the bytes of its copies.
// As dive: a deleted file counts as size 0, a deleted directory as the bytes
// it held; directories themselves and opaque markers are not counted.

interface PathSizes {
  total: number;
  smallest: number;
}

export class EfficiencyScore {
  private readonly paths = new Map<string, PathSizes>();

  see(path: string, size: number): void {
    const seen = this.paths.get(path);
    if (!seen) this.paths.set(path, { total: size, smallest: size });
    else {
      seen.total += size;
      seen.smallest = Math.min(seen.smallest, size);
    }
  }

  score(): number {
    let smallest = 0;
    let total = 0;
    for (const sizes of this.paths.values()) {
      smallest += sizes.smallest;
      total += sizes.total;
    }
    return total === 0 ? 1 : smallest / total;
  }
}
