#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so the command never lags behind a stale build.
import { register } from 'tsx/esm/api';

register();
await import('../src/node/cli.ts');
