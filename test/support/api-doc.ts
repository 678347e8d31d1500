import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './deploy-files';

/** docs/API.md as written: the contract the tests hold the code to. */
const API_MD = readFileSync(join(REPO_ROOT, 'docs', 'API.md'), 'utf8');

/** The rows of API.md's tables whose first cell matches `firstCell`, by its first group; each row's cells trimmed. */
export function apiDocRows(firstCell: RegExp): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of API_MD.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const key = cells[0]?.match(firstCell)?.[1];
    if (key) rows.set(key, cells);
  }
  return rows;
}

/** API.md "Errors": a row per stable code (code, HTTP, gRPC, when). */
export function apiDocErrorRows(): Map<string, string[]> {
  return apiDocRows(/^`([A-Z_]+)`$/);
}

/** API.md "Errors" by HTTP status: the codes each status may carry (a code whose cell names two statuses, such as 400 and 413, under both). */
export function documentedCodesByStatus(): Record<number, readonly string[]> {
  const byStatus: Record<number, string[]> = {};
  for (const [code, cells] of apiDocErrorRows()) {
    for (const status of cells[1].match(/\b[1-5]\d\d\b/g) ?? []) (byStatus[Number(status)] ??= []).push(code);
  }
  return byStatus;
}
