/**
 * Linux red-black trees as before the 2012 rewrite: a line-for-line port of
 * lib/rbtree.c of 2.6.2x..2.6.33 (Andrea Arcangeli 1999, David Woodhouse
 * 2002), read from the 2.6.29-era copy in github.com/Dopi/JetKernel
 * lib/rbtree.c (commit 6a029c5df045786ff296ce90b535b1b6f2904eeb), plus
 * rb_link_node, RB_CLEAR_NODE and RB_EMPTY_NODE of include/linux/rbtree.h.
 * KSM's results depend on the exact tree shapes in rare cases, so the
 * rotations and case order are kept exactly.
 *
 * Nodes live in struct-of-arrays storage owned by the caller; a node id is a
 * positive integer and 0 is NULL. The C packs parent and colour into
 * rb_parent_color; here they are two arrays, copied together wherever the C
 * copies the packed word. The owner may swap in bigger arrays between calls,
 * so every function reads s.left etc. afresh on entry.
 */

export interface RbStore {
  left: Int32Array;
  right: Int32Array;
  parent: Int32Array;
  /** 0 red, 1 black (RB_RED, RB_BLACK). */
  color: Uint8Array;
}

/** struct rb_root; node 0 is the empty tree (RB_ROOT). */
export interface RbRoot {
  node: number;
}

export const RB_RED = 0;
export const RB_BLACK = 1;

/** Which slot rb_link_node's `rb_link` points at: a child of `parent`, or the root. */
export type RbLink = 'left' | 'right' | 'root';

/**
 * rb_link_node(node, parent, rb_link): node->rb_parent_color = parent (so
 * red), no children, and *rb_link = node.
 */
export function rbLinkNode(s: RbStore, node: number, parent: number, link: RbLink, root: RbRoot): void {
  s.parent[node] = parent;
  s.color[node] = RB_RED;
  s.left[node] = 0;
  s.right[node] = 0;
  if (link === 'root') root.node = node;
  else if (parent === 0) throw new RangeError(`rbLinkNode: '${link}' link with a NULL parent`);
  else if (link === 'left') s.left[parent] = node;
  else s.right[parent] = node;
}

/** RB_CLEAR_NODE: rb_set_parent(node, node), the colour is kept. */
export function rbClearNode(s: RbStore, node: number): void {
  s.parent[node] = node;
}

/** RB_EMPTY_NODE: rb_parent(node) == node. */
export function rbEmptyNode(s: RbStore, node: number): boolean {
  return s.parent[node] === node;
}

function rotateLeft(s: RbStore, node: number, root: RbRoot): void {
  const L = s.left, R = s.right, P = s.parent;
  const right = R[node];
  const parent = P[node];

  if ((R[node] = L[right]) !== 0) P[L[right]] = node;
  L[right] = node;

  P[right] = parent;

  if (parent !== 0) {
    if (node === L[parent]) L[parent] = right;
    else R[parent] = right;
  } else root.node = right;
  P[node] = right;
}

function rotateRight(s: RbStore, node: number, root: RbRoot): void {
  const L = s.left, R = s.right, P = s.parent;
  const left = L[node];
  const parent = P[node];

  if ((L[node] = R[left]) !== 0) P[R[left]] = node;
  R[left] = node;

  P[left] = parent;

  if (parent !== 0) {
    if (node === R[parent]) R[parent] = left;
    else L[parent] = left;
  } else root.node = left;
  P[node] = left;
}

/** rb_insert_color: rebalances after rbLinkNode. */
export function rbInsertColor(s: RbStore, node: number, root: RbRoot): void {
  const L = s.left, R = s.right, P = s.parent, C = s.color;
  let parent: number, gparent: number;

  while ((parent = P[node]) !== 0 && C[parent] === RB_RED) {
    gparent = P[parent];

    if (parent === L[gparent]) {
      {
        const uncle = R[gparent];
        if (uncle !== 0 && C[uncle] === RB_RED) {
          C[uncle] = RB_BLACK;
          C[parent] = RB_BLACK;
          C[gparent] = RB_RED;
          node = gparent;
          continue;
        }
      }

      if (R[parent] === node) {
        rotateLeft(s, parent, root);
        const tmp = parent;
        parent = node;
        node = tmp;
      }

      C[parent] = RB_BLACK;
      C[gparent] = RB_RED;
      rotateRight(s, gparent, root);
    } else {
      {
        const uncle = L[gparent];
        if (uncle !== 0 && C[uncle] === RB_RED) {
          C[uncle] = RB_BLACK;
          C[parent] = RB_BLACK;
          C[gparent] = RB_RED;
          node = gparent;
          continue;
        }
      }

      if (L[parent] === node) {
        rotateRight(s, parent, root);
        const tmp = parent;
        parent = node;
        node = tmp;
      }

      C[parent] = RB_BLACK;
      C[gparent] = RB_RED;
      rotateLeft(s, gparent, root);
    }
  }

  C[root.node] = RB_BLACK;
}

/** __rb_erase_color: node (maybe NULL) lost one black on its side of parent. */
function eraseColor(s: RbStore, node: number, parent: number, root: RbRoot): void {
  const L = s.left, R = s.right, P = s.parent, C = s.color;
  let other: number;

  while ((node === 0 || C[node] === RB_BLACK) && node !== root.node) {
    if (L[parent] === node) {
      other = R[parent];
      if (C[other] === RB_RED) {
        C[other] = RB_BLACK;
        C[parent] = RB_RED;
        rotateLeft(s, parent, root);
        other = R[parent];
      }
      if ((L[other] === 0 || C[L[other]] === RB_BLACK) && (R[other] === 0 || C[R[other]] === RB_BLACK)) {
        C[other] = RB_RED;
        node = parent;
        parent = P[node];
      } else {
        if (R[other] === 0 || C[R[other]] === RB_BLACK) {
          let oLeft: number;
          if ((oLeft = L[other]) !== 0) C[oLeft] = RB_BLACK;
          C[other] = RB_RED;
          rotateRight(s, other, root);
          other = R[parent];
        }
        C[other] = C[parent];
        C[parent] = RB_BLACK;
        if (R[other] !== 0) C[R[other]] = RB_BLACK;
        rotateLeft(s, parent, root);
        node = root.node;
        break;
      }
    } else {
      other = L[parent];
      if (C[other] === RB_RED) {
        C[other] = RB_BLACK;
        C[parent] = RB_RED;
        rotateRight(s, parent, root);
        other = L[parent];
      }
      if ((L[other] === 0 || C[L[other]] === RB_BLACK) && (R[other] === 0 || C[R[other]] === RB_BLACK)) {
        C[other] = RB_RED;
        node = parent;
        parent = P[node];
      } else {
        if (L[other] === 0 || C[L[other]] === RB_BLACK) {
          let oRight: number;
          if ((oRight = R[other]) !== 0) C[oRight] = RB_BLACK;
          C[other] = RB_RED;
          rotateLeft(s, other, root);
          other = L[parent];
        }
        C[other] = C[parent];
        C[parent] = RB_BLACK;
        if (L[other] !== 0) C[L[other]] = RB_BLACK;
        rotateRight(s, parent, root);
        node = root.node;
        break;
      }
    }
  }
  if (node !== 0) C[node] = RB_BLACK;
}

/**
 * rb_erase. As in the C, the erased node's own fields are left as they were
 * (stale), and a node with two children is replaced by its successor.
 */
export function rbErase(s: RbStore, node: number, root: RbRoot): void {
  const L = s.left, R = s.right, P = s.parent, C = s.color;
  let child: number, parent: number, color: number;

  if (L[node] === 0) child = R[node];
  else if (R[node] === 0) child = L[node];
  else {
    const old = node;
    let left: number;

    node = R[node];
    while ((left = L[node]) !== 0) node = left;
    child = R[node];
    parent = P[node];
    color = C[node];

    if (child !== 0) P[child] = parent;
    if (parent === old) {
      R[parent] = child;
      parent = node;
    } else L[parent] = child;

    // node->rb_parent_color = old->rb_parent_color copies parent and colour.
    P[node] = P[old];
    C[node] = C[old];
    R[node] = R[old];
    L[node] = L[old];

    if (P[old] !== 0) {
      if (L[P[old]] === old) L[P[old]] = node;
      else R[P[old]] = node;
    } else root.node = node;

    P[L[old]] = node;
    if (R[old] !== 0) P[R[old]] = node;
    if (color === RB_BLACK) eraseColor(s, child, parent, root);
    return;
  }

  parent = P[node];
  color = C[node];

  if (child !== 0) P[child] = parent;
  if (parent !== 0) {
    if (L[parent] === node) L[parent] = child;
    else R[parent] = child;
  } else root.node = child;

  if (color === RB_BLACK) eraseColor(s, child, parent, root);
}

/** rb_first: the leftmost node, 0 for an empty tree. */
export function rbFirst(s: RbStore, root: RbRoot): number {
  const L = s.left;
  let n = root.node;
  if (n === 0) return 0;
  while (L[n] !== 0) n = L[n];
  return n;
}

/** rb_last: the rightmost node, 0 for an empty tree. */
export function rbLast(s: RbStore, root: RbRoot): number {
  const R = s.right;
  let n = root.node;
  if (n === 0) return 0;
  while (R[n] !== 0) n = R[n];
  return n;
}

/** rb_next: the in-order successor, 0 at the end or for a cleared node. */
export function rbNext(s: RbStore, node: number): number {
  const L = s.left, R = s.right, P = s.parent;
  let parent: number;

  if (P[node] === node) return 0;

  // A right-hand child: go down and then left as far as we can.
  if (R[node] !== 0) {
    node = R[node];
    while (L[node] !== 0) node = L[node];
    return node;
  }

  // Otherwise go up until we come from a left-hand child: that parent is next.
  while ((parent = P[node]) !== 0 && node === R[parent]) node = parent;

  return parent;
}

/** rb_prev: the in-order predecessor, 0 at the start or for a cleared node. */
export function rbPrev(s: RbStore, node: number): number {
  const L = s.left, R = s.right, P = s.parent;
  let parent: number;

  if (P[node] === node) return 0;

  // A left-hand child: go down and then right as far as we can.
  if (L[node] !== 0) {
    node = L[node];
    while (R[node] !== 0) node = R[node];
    return node;
  }

  // Otherwise go up until we come from a right-hand child: that parent is previous.
  while ((parent = P[node]) !== 0 && node === L[parent]) node = parent;

  return parent;
}

/**
 * rb_replace_node: `replacement` takes victim's place without rebalancing;
 * `*new = *victim` copies left, right, parent and colour. Victim's fields are
 * left as they were.
 */
export function rbReplaceNode(s: RbStore, victim: number, replacement: number, root: RbRoot): void {
  const L = s.left, R = s.right, P = s.parent, C = s.color;
  const parent = P[victim];

  // Set the surrounding nodes to point to the replacement.
  if (parent !== 0) {
    if (victim === L[parent]) L[parent] = replacement;
    else R[parent] = replacement;
  } else {
    root.node = replacement;
  }
  if (L[victim] !== 0) P[L[victim]] = replacement;
  if (R[victim] !== 0) P[R[victim]] = replacement;

  L[replacement] = L[victim];
  R[replacement] = R[victim];
  P[replacement] = P[victim];
  C[replacement] = C[victim];
}
