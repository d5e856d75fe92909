// The roles a long-running pophook process can play, and which ones each command starts.

export type Role = 'scheduler' | 'poll' | 'deliver';

/** `pophook worker --role …` values and the roles they start. */
export const WORKER_ROLES = {
  all: ['poll', 'deliver'],
  poll: ['poll'],
  deliver: ['deliver'],
} as const satisfies Record<string, readonly Role[]>;

/** The long-running commands and the roles they start (`worker` reads its own --role). */
export const SERVICE_COMMANDS = {
  run: ['scheduler', 'poll', 'deliver'],
  scheduler: ['scheduler'],
  worker: WORKER_ROLES.all,
} as const satisfies Record<string, readonly Role[]>;

export type ServiceCommand = keyof typeof SERVICE_COMMANDS;

export function isServiceCommand(command: string): command is ServiceCommand {
  return Object.hasOwn(SERVICE_COMMANDS, command);
}
