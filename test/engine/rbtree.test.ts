import test from 'ava';
import fc from 'fast-check';
import {
  RB_BLACK,
  RB_RED,
  rbClearNode,
  rbEmptyNode,
  rbErase,
  rbFirst,
  rbInsertColor,
  rbLast,
  rbLinkNode,
  rbNext,
  rbPrev,
  rbReplaceNode,
  type RbRoot,
  type RbStore,
} from '../../src/engine/rbtree.js';

/** A store that can swap in bigger arrays between calls, as the engine's pools do. */
class Store implements RbStore {
  left = new Int32Array(4);
  right = new Int32Array(4);
  parent = new Int32Array(4);
  color = new Uint8Array(4);
  key = new Float64Array(4);

  ensure(id: number): void {
    if (id < this.left.length) return;
    this.grow(Math.max(id + 1, this.left.length * 2));
  }

  grow(n: number): void {
    const copy = <T extends Int32Array | Uint8Array | Float64Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.left = copy(this.left, new Int32Array(n));
    this.right = copy(this.right, new Int32Array(n));
    this.parent = copy(this.parent, new Int32Array(n));
    this.color = copy(this.color, new Uint8Array(n));
    this.key = copy(this.key, new Float64Array(n));
  }
}

/** The usual kernel insert: walk down comparing keys (equal keys go right), link, recolour. */
function insert(s: Store, root: RbRoot, node: number, key: number): void {
  s.key[node] = key;
  let parent = 0;
  let link: 'left' | 'right' | 'root' = 'root';
  let cur = root.node;
  while (cur !== 0) {
    parent = cur;
    if (key < s.key[cur]) {
      link = 'left';
      cur = s.left[cur];
    } else {
      link = 'right';
      cur = s.right[cur];
    }
  }
  rbLinkNode(s, node, parent, link, root);
  rbInsertColor(s, node, root);
}

/** "2B(1B,4R(3B,-))": node ids with colours, '-' for NULL. */
function shape(s: RbStore, n: number): string {
  if (n === 0) return '-';
  const c = s.color[n] === RB_BLACK ? 'B' : 'R';
  if (s.left[n] === 0 && s.right[n] === 0) return `${n}${c}`;
  return `${n}${c}(${shape(s, s.left[n])},${shape(s, s.right[n])})`;
}

/** Checks every red-black and linkage invariant; returns the keys in order. */
function checkTree(s: Store, root: RbRoot): number[] {
  const keys: number[] = [];
  if (root.node === 0) return keys;
  if (s.parent[root.node] !== 0) throw new Error('root has a parent');
  if (s.color[root.node] !== RB_BLACK) throw new Error('root is red');
  const blackHeight = (n: number): number => {
    if (n === 0) return 1;
    const l = s.left[n], r = s.right[n];
    if (l !== 0 && s.parent[l] !== n) throw new Error(`parent of ${l} is not ${n}`);
    if (r !== 0 && s.parent[r] !== n) throw new Error(`parent of ${r} is not ${n}`);
    if (s.color[n] === RB_RED && ((l !== 0 && s.color[l] === RB_RED) || (r !== 0 && s.color[r] === RB_RED))) {
      throw new Error(`red node ${n} has a red child`);
    }
    const hl = blackHeight(l);
    keys.push(s.key[n]);
    const hr = blackHeight(r);
    if (hl !== hr) throw new Error(`black heights differ under ${n}: ${hl} vs ${hr}`);
    return hl + (s.color[n] === RB_BLACK ? 1 : 0);
  };
  blackHeight(root.node);
  return keys;
}

function forward(s: Store, root: RbRoot): number[] {
  const out: number[] = [];
  for (let n = rbFirst(s, root); n !== 0; n = rbNext(s, n)) out.push(s.key[n]);
  return out;
}

function backward(s: Store, root: RbRoot): number[] {
  const out: number[] = [];
  for (let n = rbLast(s, root); n !== 0; n = rbPrev(s, n)) out.push(s.key[n]);
  return out;
}

type Op =
  | { op: 'insert'; key: number }
  | { op: 'erase'; pick: number }
  | { op: 'replace'; pick: number }
  | { op: 'flush' }
  | { op: 'grow' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('insert' as const), key: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('erase' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('replace' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'grow' as const }) },
);

/** Runs the ops against a tree and a sorted model, checking everything after each op. */
function runOps(ops: Op[]): void {
  const s = new Store();
  const root: RbRoot = { node: 0 };
  // Ids are reused LIFO without clearing, as KSM relinks nodes after a flush.
  const free: number[] = [];
  let next = 1;
  const alloc = (): number => {
    const id = free.pop() ?? next++;
    s.ensure(id);
    return id;
  };
  let model: { key: number; id: number }[] = [];
  for (const o of ops) {
    if (o.op === 'insert') {
      const id = alloc();
      insert(s, root, id, o.key);
      model.push({ key: o.key, id });
    } else if (o.op === 'erase' && model.length > 0) {
      const [victim] = model.splice(o.pick % model.length, 1);
      rbErase(s, victim.id, root);
      free.push(victim.id);
    } else if (o.op === 'replace' && model.length > 0) {
      const i = o.pick % model.length;
      const id = alloc();
      s.key[id] = model[i].key;
      rbReplaceNode(s, model[i].id, id, root);
      free.push(model[i].id);
      model[i] = { key: model[i].key, id };
    } else if (o.op === 'flush') {
      // KSM's unstable tree flush: forget the root, leave every node as it is.
      root.node = 0;
      for (const m of model) free.push(m.id);
      model = [];
    } else if (o.op === 'grow') {
      s.grow(s.left.length + 7);
    }
    const want = model.map((m) => m.key).sort((a, b) => a - b);
    const got = checkTree(s, root);
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`in-order ${got} != model ${want}`);
    if (JSON.stringify(forward(s, root)) !== JSON.stringify(want)) throw new Error('rbFirst/rbNext order');
    if (JSON.stringify(backward(s, root)) !== JSON.stringify([...want].reverse())) throw new Error('rbLast/rbPrev order');
    // The NULL slot is never written through.
    if (s.left[0] !== 0 || s.right[0] !== 0 || s.parent[0] !== 0) throw new Error('NULL node was written');
  }
}

test('property: random insert/erase/replace/flush/grow keep the invariants and the order', (t) => {
  fc.assert(fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => runOps(ops)), { numRuns: 500 });
  t.pass();
});

test('property: long runs on few keys (many equal keys, deep erase cases)', (t) => {
  const small = fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('insert' as const), key: fc.integer({ min: 0, max: 5 }) }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('erase' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('replace' as const), pick: fc.nat() }) },
  );
  fc.assert(fc.property(fc.array(small, { minLength: 100, maxLength: 600 }), (ops) => runOps(ops)), { numRuns: 100 });
  t.pass();
});

/** A fresh store with node i holding key i, for the shape tests. */
function build(keys: number[]): { s: Store; root: RbRoot } {
  const s = new Store();
  const root: RbRoot = { node: 0 };
  for (const k of keys) {
    s.ensure(k);
    insert(s, root, k, k);
  }
  return { s, root };
}

test('shape: inserting 1..7 ascending', (t) => {
  // Worked through rb_insert_color: 3 rotates left at 1 (2 becomes root);
  // 4 recolours (uncle 1 red, root 2 stays black); 5 rotates left at 3;
  // 6 recolours 3, 5 black and 4 red (stops under black 2); 7 rotates left at 5.
  const { s, root } = build([1, 2, 3, 4, 5, 6, 7]);
  t.is(shape(s, root.node), '2B(1B,4R(3B,6B(5R,7R)))');
});

test('shape: inserting 7..1 descending is the mirror image', (t) => {
  const { s, root } = build([7, 6, 5, 4, 3, 2, 1]);
  t.is(shape(s, root.node), '6B(4R(2B(1R,3R),5B),7B)');
});

test('shape: erasing the root of the 1..7 tree', (t) => {
  // rb_erase(2): successor 3 (leftmost under 4) takes 2's place and colour;
  // 3 was black, so __rb_erase_color(NULL, 4): sibling 6 is black with red
  // children, its right child 7 is red, so 6 takes 4's colour (red), 4 and 7
  // turn black and 4 rotates left.
  const { s, root } = build([1, 2, 3, 4, 5, 6, 7]);
  rbErase(s, 2, root);
  t.is(shape(s, root.node), '3B(1B,6R(4B(-,5R),7B))');
  // The erased node's own fields are left stale, as in the C.
  t.is(s.left[2], 1);
  t.is(s.right[2], 4);
});

test('shape: erasing a red leaf and then a black leaf', (t) => {
  const { s, root } = build([1, 2, 3, 4, 5, 6, 7]);
  rbErase(s, 5, root);
  t.is(shape(s, root.node), '2B(1B,4R(3B,6B(-,7R)))');
  // Erasing black 3: its sibling 6 is black with a red right child, so
  // 6 takes 4's red, 4 and 7 turn black and 4 rotates left.
  rbErase(s, 3, root);
  t.is(shape(s, root.node), '2B(1B,6R(4B,7B))');
});

test('rbReplaceNode copies links and colour and repoints the neighbours', (t) => {
  const { s, root } = build([1, 2, 3, 4, 5, 6, 7]);
  s.ensure(9);
  s.key[9] = 4;
  rbReplaceNode(s, 4, 9, root);
  t.is(shape(s, root.node), '2B(1B,9R(3B,6B(5R,7R)))');
  t.is(s.parent[3], 9);
  t.is(s.parent[6], 9);
  t.is(s.parent[9], 2);
  rbReplaceNode(s, 2, 8, root);
  t.is(root.node, 8);
  t.is(s.color[8], RB_BLACK);
  t.is(s.parent[8], 0);
});

test('a flushed tree relinks its old nodes from scratch', (t) => {
  const { s, root } = build([1, 2, 3, 4, 5, 6, 7]);
  root.node = 0;
  // Node 4 still has children and node 2 is black: rbLinkNode resets both.
  insert(s, root, 4, 4);
  insert(s, root, 2, 2);
  t.is(shape(s, root.node), '4B(2R,-)');
  t.is(s.left[2], 0);
  t.is(s.right[2], 0);
  t.is(s.color[2], RB_RED);
});

test('rbNext/rbPrev of a cleared node is NULL; a NULL parent needs the root link', (t) => {
  const { s, root } = build([1, 2, 3]);
  t.false(rbEmptyNode(s, 3));
  rbClearNode(s, 3);
  t.true(rbEmptyNode(s, 3));
  t.is(rbNext(s, 3), 0);
  t.is(rbPrev(s, 3), 0);
  t.is(rbFirst(s, { node: 0 }), 0);
  t.is(rbLast(s, { node: 0 }), 0);
  t.throws(() => rbLinkNode(s, 3, 0, 'left', root), { instanceOf: RangeError });
});
