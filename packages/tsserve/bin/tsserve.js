#!/usr/bin/env node
// The `tsserve` bin. It is committed (dist/ is not) so that `pnpm install` can link it before the
// first `pnpm build`, without "Failed to create bin"; the command itself is dist/cli.js.
import "../dist/cli.js";
