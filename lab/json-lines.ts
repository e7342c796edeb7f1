import type { z } from 'zod';

/** A line of output as a JSON object; null for anything else (a log line in text, an array, bad JSON). */
export function jsonObject(line: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Parses each line of output that is a JSON object; other lines (logs, text) are skipped. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      const value = jsonObject(line);
      return value ? [value] : [];
    });
}

/**
 * What a `PREFIX{json}` line carries, if `schema` accepts it: the client's samples, the uml guest's
 * live events. Null for another line, bad JSON, or JSON the schema refuses: such lines are input.
 */
export function prefixedJson<S extends z.ZodType>(line: string, prefix: string, schema: S): z.output<S> | null {
  if (!line.startsWith(prefix)) return null;
  const value = jsonObject(line.slice(prefix.length));
  if (value === null) return null;
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
