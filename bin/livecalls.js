#!/usr/bin/env node
// The `livecalls` command: runs the TypeScript CLI directly (no build step) through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
