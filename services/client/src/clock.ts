/** Wall-clock microseconds, for datagram send times; only differences matter (RFC 3550 A.8). */
export function nowMicros(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}
