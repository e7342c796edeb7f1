/**
 * How far a correct count of lost (or duplicated, or reordered) datagrams may fall from its expectation:
 * the exact central intervals the bands of path-model.ts are made of. Pure functions.
 */

/**
 * The central interval of the binomial distribution: the counts of lost datagrams out of `n`, each lost
 * with probability `p`, that a correct measurement falls in with probability `confidence` (at least).
 * Exact: built from the probability mass function, not from a normal approximation, so it stays right
 * for small n and for p near 0. Returns [low, high] counts; P(X < low) and P(X > high) are each at most
 * (1 - confidence) / 2.
 */
export function binomialInterval(n: number, p: number, confidence: number): [number, number] {
  if (p <= 0) return [0, 0];
  if (p >= 1) return [n, n];
  const logP = Math.log(p);
  const logQ = Math.log(1 - p);
  const logN = logFactorial(n);
  const pmf = Array.from({ length: n + 1 }, (_, k) => Math.exp(logN - logFactorial(k) - logFactorial(n - k) + k * logP + (n - k) * logQ));
  return centralInterval(pmf, confidence);
}

/**
 * The central interval of any distribution of counts (pmf[k] = P(X = k)): [low, high] with P(X < low)
 * and P(X > high) each at most (1 - confidence) / 2.
 */
export function centralInterval(pmf: readonly number[], confidence: number): [number, number] {
  const tail = (1 - confidence) / 2;
  const n = pmf.length - 1;
  let low = 0;
  for (let below = 0; low < n && below + pmf[low]! <= tail; low++) below += pmf[low]!;
  let high = n;
  for (let above = 0; high > 0 && above + pmf[high]! <= tail; high--) above += pmf[high]!;
  return [low, Math.max(low, high)];
}

/** ln(n!), cached: the interval needs it for every count from 0 to n. */
const factorialCache: number[] = [0];
function logFactorial(n: number): number {
  for (let k = factorialCache.length; k <= n; k++) factorialCache.push(factorialCache[k - 1]! + Math.log(k));
  return factorialCache[n]!;
}
