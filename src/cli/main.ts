#!/usr/bin/env node
import { Command } from 'commander';
import { registerRun } from './run.js';
import { registerExplain } from './explain.js';

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
  return program;
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/cli/main.js');
if (isMain) {
  await buildProgram().parseAsync(process.argv);
}
