#!/usr/bin/env node
// `npm run schema`: writes docs/experiment-result.schema.json from the zod schema of the report.
import { writeFileSync } from 'node:fs';
import { experimentReportJsonSchema } from '../services/client/src/report-schema.ts';

const path = new URL('../docs/experiment-result.schema.json', import.meta.url);
writeFileSync(path, `${JSON.stringify(experimentReportJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${path.pathname}\n`);
