/**
 * The models the measurements are put beside. Pure functions; every formula cites its source.
 */

/**
 * Loss over a path that crosses `hops` impaired points, each dropping independently with probability
 * `perHop`: a packet survives only if it survives every one, so loss = 1 - (1 - p)^hops.
 */
export function pathLoss(perHop: number, hops: number): number {
  return 1 - (1 - perHop) ** hops;
}

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

/**
 * The Mathis model of TCP throughput under random loss (Mathis, Semke, Mahdavi, Ott, "The Macroscopic
 * Behavior of the TCP Congestion Avoidance Algorithm", 1997): rate <= (MSS / RTT) * (C / sqrt(p)),
 * with C = sqrt(3/2) for periodic loss and delayed ACKs off. Bits per second; Infinity for p = 0.
 */
export function mathisBitsPerSecond(mssBytes: number, rttSeconds: number, lossRate: number): number {
  if (lossRate <= 0) return Infinity;
  return ((mssBytes * 8) / rttSeconds) * (Math.sqrt(3 / 2) / Math.sqrt(lossRate));
}

/**
 * The TCP throughput equation of RFC 5348 section 3.1 (Padhye, Firoiu, Towsley, Kurose 1998), which adds
 * what Mathis leaves out: retransmission timeouts, which dominate once loss is a few percent.
 *   X = s / (R * sqrt(2*b*p/3) + t_RTO * (3 * sqrt(3*b*p/8)) * p * (1 + 32*p^2))
 * s: segment size (bytes), R: round-trip time (s), p: loss event rate, b = 1 (RFC 5348 recommends
 * b = 1), t_RTO: the retransmission timeout (s); bits per second, Infinity for p = 0.
 */
export function rfc5348BitsPerSecond(segmentBytes: number, rttSeconds: number, lossRate: number, rtoSeconds: number): number {
  if (lossRate <= 0) return Infinity;
  const b = 1;
  const p = lossRate;
  const denominator = rttSeconds * Math.sqrt((2 * b * p) / 3) + rtoSeconds * (3 * Math.sqrt((3 * b * p) / 8)) * p * (1 + 32 * p ** 2);
  return (segmentBytes * 8) / denominator;
}
