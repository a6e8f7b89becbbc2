#!/usr/bin/env node
import { runCli } from './cli/run.js';

// Exit explicitly: once an embedded PostgreSQL has run, its exit hook would end a process that runs
// out of work with code 0, whatever the command's code (postgres/embedded.ts).
process.exit(await runCli(process.argv.slice(2)));
