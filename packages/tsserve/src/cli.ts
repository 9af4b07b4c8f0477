#!/usr/bin/env node
/**
 * The `tsserve` command (bin). Everything it does lives in the package's modules; this file only
 * hands the command line to the commander program.
 */
import { buildProgram } from "./cli/program.js";
import { reportError } from "./cli/report-error.js";

buildProgram()
  .parseAsync(process.argv)
  .catch((e: unknown) => process.exit(reportError("", e)));
