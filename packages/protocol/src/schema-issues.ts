import type { z } from 'zod';

/**
 * One short line from a zod failure ("name: Too big; size: Expected number"), so that a schema failure
 * becomes a readable message beside a stable code, never a raw ZodError dump on the wire or the terminal.
 */
export function summarizeIssues(error: z.ZodError, maxLength = 300): string {
  const text = error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}
