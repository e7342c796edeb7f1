#!/usr/bin/env node
// `npm run schema`: writes the JSON Schemas in docs/ from the zod schemas of the results.
import { writeFileSync } from 'node:fs';
import { experimentReportJsonSchema, sweepResultJsonSchema } from '@lab/results';

for (const [file, schema] of [
  ['experiment-result.schema.json', experimentReportJsonSchema()],
  ['sweep-result.schema.json', sweepResultJsonSchema()],
] as const) {
  const path = new URL(`../docs/${file}`, import.meta.url);
  writeFileSync(path, `${JSON.stringify(schema, null, 2)}\n`);
  process.stdout.write(`wrote ${path.pathname}\n`);
}
