/**
 * The sub-commands of `sluice`, each registered by the module that owns it.
 * Add one import and one entry per command module; main.ts does the rest.
 */
import type { Command } from 'commander';
import { registerAdmin } from './admin.js';
import { registerExactCommands } from './exact.js';
import { registerServe } from './serve.js';
import { registerSimExact } from './sim-exact.js';
import { registerSimVisma } from './sim-visma.js';

export type RegisterCommand = (program: Command) => void;

export const commandModules: readonly RegisterCommand[] = [registerExactCommands, registerServe, (program) => registerAdmin(program), registerSimVisma, registerSimExact];
