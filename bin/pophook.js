#!/usr/bin/env node
// The pophook command: runs the TypeScript sources through tsx, so a checkout works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
