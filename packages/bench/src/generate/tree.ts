/**
 * Business-unit trees of a given size and depth, in three shapes. A tree is a parent index per
 * node (-1 for the root, node 0); every parent comes before its children. The depth (levels below
 * the root) is exactly the one asked for whenever there are enough nodes (`count - 1 >= depth`);
 * with fewer, the tree is as deep as its nodes allow.
 */

export const TREE_SHAPES = ['wide', 'deep', 'skewed'] as const;
export type TreeShape = (typeof TREE_SHAPES)[number];

/** The share of the non-root BUs a skewed tree puts under its first child. */
export const SKEWED_SHARE = 0.9;

export function buildTree(shape: TreeShape, count: number, depth: number): Int32Array {
  const parents = new Int32Array(Math.max(1, count)).fill(-1);
  const below = parents.length - 1;
  const levels = Math.max(1, Math.floor(depth));
  let next = 1;
  // A tree one level deep has no room for a skew: every BU is a child of the root.
  if (shape === 'wide' || (shape === 'skewed' && levels < 2)) {
    next = placeWide(parents, next, 0, below, levels);
  } else if (shape === 'deep') {
    // Chains of `levels` BUs hang from the root (the last one may be shorter).
    while (next <= below) {
      let parent = 0;
      for (let level = 0; level < levels && next <= below; level++) {
        parents[next] = parent;
        parent = next++;
      }
    }
  } else {
    // One child of the root holds most of the tree (as deep as asked); the rest is a shallow
    // near-complete tree beside it.
    const big = below <= levels ? below : Math.max(levels, Math.round(below * SKEWED_SHARE));
    if (big > 0) {
      parents[next] = 0;
      const bigRoot = next++;
      next = placeWide(parents, next, bigRoot, big - 1, levels - 1);
    }
    next = placeWide(parents, next, 0, below - big, Math.min(levels, 2));
  }
  if (next !== parents.length) throw new Error(`tree: placed ${next} of ${parents.length} BUs`);
  return parents;
}

/**
 * Places `size` nodes as a near-complete tree of `depth` levels below `root`, from index `first`:
 * level sizes grow geometrically (the branching factor that fills exactly `depth` levels) and each
 * level's nodes are spread evenly over the level above. Returns the next free index.
 */
function placeWide(parents: Int32Array, first: number, root: number, size: number, depth: number): number {
  if (size <= 0) return first;
  const levels = levelSizes(size, Math.max(1, depth));
  let previousStart = root;
  let previousSize = 1;
  let next = first;
  for (const levelSize of levels) {
    for (let j = 0; j < levelSize; j++) {
      parents[next + j] = previousStart + Math.floor((j * previousSize) / levelSize);
    }
    previousStart = next;
    previousSize = levelSize;
    next += levelSize;
  }
  return next;
}

/** Sizes of `depth` levels (each at least 1) summing to `size`, growing by one branching factor. */
export function levelSizes(size: number, depth: number): number[] {
  const levels = Math.min(depth, size);
  // The branching factor b with b + b² + … + b^levels = size (b >= 1 because size >= levels).
  const total = (b: number) => {
    let sum = 0;
    let power = 1;
    for (let k = 0; k < levels; k++) {
      power *= b;
      sum += power;
    }
    return sum;
  };
  let low = 1;
  let high = Math.max(2, size);
  for (let i = 0; i < 100; i++) {
    const mid = (low + high) / 2;
    if (total(mid) < size) low = mid;
    else high = mid;
  }
  const sizes: number[] = [];
  let remaining = size;
  let power = 1;
  for (let k = 1; k <= levels; k++) {
    power *= low;
    const left = levels - k;
    const level = k === levels ? remaining : Math.min(Math.max(1, Math.round(power)), remaining - left);
    sizes.push(level);
    remaining -= level;
  }
  return sizes;
}

/** Levels below the root of the deepest node. */
export function treeDepth(parents: Int32Array): number {
  const depths = new Int32Array(parents.length);
  let deepest = 0;
  for (let i = 1; i < parents.length; i++) {
    const d = (depths[parents[i] as number] as number) + 1;
    depths[i] = d;
    if (d > deepest) deepest = d;
  }
  return deepest;
}
