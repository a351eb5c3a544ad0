#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerRun } from './run.js';
import { registerExplain } from './explain.js';
import { registerStatus } from './status.js';

/**
 * The `svcbgp` command. Each subcommand lives in its own module under src/cli/ and registers itself
 * here, so the entry point stays a list.
 */
export function buildProgram(): Command {
  const program = new Command('svcbgp')
    .description('Advertise Kubernetes Service IPs to the data-center network through a co-located gobgpd')
    .showHelpAfterError();
  registerRun(program);
  registerExplain(program);
  registerStatus(program);
  return program;
}

/** True when this file is the program (also through a symlink such as an npm `bin` link), false when imported. */
function isMainModule(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMainModule()) {
  await buildProgram().parseAsync(process.argv);
}
