/**
 * The models of TCP throughput the measurements are put beside (the sweep's table and chart). Pure
 * functions; every formula cites its source.
 */

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
