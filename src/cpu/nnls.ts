/**
 * Non-negative least squares: x >= 0 minimising |A x - b|, by the active-set
 * method of Lawson and Hanson ("Solving Least Squares Problems", 1974,
 * chapter 23, algorithm NNLS). Small and dense: the ksmd CPU model fits a
 * dozen costs to a few dozen passes.
 *
 * Data: A is m rows of n numbers; P (the passive set) holds the columns
 * whose x is free (> 0), the others are held at 0. Each outer step frees
 * the column whose gradient w = A^T (b - A x) is the largest; the inner
 * loop solves the unconstrained problem on P and, when that solution has a
 * non-positive entry, moves back along the segment to the first bound hit
 * and returns those columns to the active set.
 */

/** The unconstrained least-squares solution on the columns `cols` (normal equations, Gaussian elimination with partial pivoting). */
function solveOn(A: number[][], b: number[], cols: number[]): number[] {
  const k = cols.length;
  const M = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  for (const row of A.keys()) {
    const r = A[row];
    for (let i = 0; i < k; i++) {
      const ai = r[cols[i]];
      if (ai === 0) continue;
      for (let j = i; j < k; j++) M[i][j] += ai * r[cols[j]];
      M[i][k] += ai * b[row];
    }
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) M[i][j] = M[j][i];
  // A column that is a combination of others gives a singular system: a
  // relative ridge keeps the elimination defined (the fit then shares the cost out).
  for (let i = 0; i < k; i++) M[i][i] += 1e-12 * (M[i][i] || 1);
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    const d = M[c][c];
    if (d === 0) continue;
    for (let r = 0; r < k; r++) {
      if (r === c || M[r][c] === 0) continue;
      const f = M[r][c] / d;
      for (let j = c; j <= k; j++) M[r][j] -= f * M[c][j];
    }
  }
  return M.map((row, i) => (row[i] === 0 ? 0 : row[k] / row[i]));
}

function gradient(A: number[][], b: number[], x: number[]): number[] {
  const n = x.length;
  const w = new Array<number>(n).fill(0);
  for (const [i, r] of A.entries()) {
    let res = b[i];
    for (let j = 0; j < n; j++) res -= r[j] * x[j];
    for (let j = 0; j < n; j++) w[j] += r[j] * res;
  }
  return w;
}

/** x >= 0 minimising |A x - b| (A: m x n, as rows). */
export function nnls(A: number[][], b: number[], n = A[0]?.length ?? 0): number[] {
  const x = new Array<number>(n).fill(0);
  const passive = new Array<boolean>(n).fill(false);
  const scale = Math.max(1e-300, ...A.flat().map(Math.abs));
  const tol = 1e-10 * scale * Math.max(1, ...b.map(Math.abs)) * Math.max(A.length, n);
  for (let outer = 0; outer < 3 * n + 10; outer++) {
    const w = gradient(A, b, x);
    let j = -1;
    for (let i = 0; i < n; i++) if (!passive[i] && w[i] > tol && (j < 0 || w[i] > w[j])) j = i;
    if (j < 0) break;
    passive[j] = true;
    for (let inner = 0; inner < 3 * n + 10; inner++) {
      const cols = [...passive.keys()].filter((i) => passive[i]);
      const s = solveOn(A, b, cols);
      const z = new Array<number>(n).fill(0);
      cols.forEach((c, i) => (z[c] = s[i]));
      if (cols.every((c) => z[c] > 0)) {
        for (let i = 0; i < n; i++) x[i] = z[i];
        break;
      }
      let alpha = 1;
      for (const c of cols) if (z[c] <= 0) alpha = Math.min(alpha, x[c] / (x[c] - z[c]));
      for (let i = 0; i < n; i++) x[i] += alpha * (z[i] - x[i]);
      for (const c of cols) if (x[c] <= 1e-12 * Math.max(1, Math.abs(z[c]))) {
        passive[c] = false;
        x[c] = 0;
      }
      if (!passive.some(Boolean)) break;
    }
  }
  return x;
}
