import { isIP } from 'node:net';
import { z } from 'zod';

/** Where a stream service listens or a client connects: an IP or host and port, or a Unix socket path. */
export type Endpoint = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/**
 * Where a UDP datagram comes from or goes to: an IP address (never a name: a name would be looked up
 * on every send) and a port, as dgram's rinfo gives them. A TCP server's place is an Endpoint.
 */
export interface UdpAddress {
  address: string;
  port: number;
}

/**
 * Parses "HOST:PORT", "[IPV6]:PORT" (brackets as in URLs, RFC 3986 §3.2.2) or "unix:/absolute/path".
 * The port may be 0 (a listener then picks a free one).
 */
export const endpointSchema = z.string().transform((text, ctx): Endpoint => {
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    // sun_path is 108 bytes on Linux, NUL included (unix(7)).
    if (!path.startsWith('/') || Buffer.byteLength(path) > 107 || path.includes('\0')) {
      ctx.addIssue({ code: 'custom', message: 'a Unix socket needs an absolute path of at most 107 bytes' });
      return z.NEVER;
    }
    return { kind: 'unix', path };
  }
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (!match || !host || port > 65_535 || (match[1] !== undefined && isIP(match[1]) !== 6)) {
    ctx.addIssue({ code: 'custom', message: 'expected HOST:PORT, [IPV6]:PORT or unix:/path' });
    return z.NEVER;
  }
  return { kind: 'tcp', host, port };
});

/** A comma-separated list of endpoints, e.g. "0.0.0.0:9000,[::]:9000,unix:/run/lab.sock". */
export const endpointListSchema = z
  .string()
  .transform((text) => text.split(',').map((part) => part.trim()).filter(Boolean))
  .pipe(z.array(endpointSchema).min(1));

/** "1.2.3.4:80" or "[::1]:80", as in URLs (RFC 3986 §3.2.2). */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.kind === 'unix' ? `unix:${endpoint.path}` : formatHostPort(endpoint.host, endpoint.port);
}
