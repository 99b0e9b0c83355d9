/**
 * The child side of bench/lib/processes.ts startChild: says `{id: 0}` when ready, answers each
 * command `{id, type, …}` with `{id, …}` (or `{id, error}`), and ends when the bench goes away.
 */
export type Command = Readonly<Record<string, unknown>> & {
  readonly id: number;
  readonly type: string;
};

const isCommand = (message: unknown): message is Command =>
  typeof message === 'object' &&
  message !== null &&
  typeof (message as Command).id === 'number' &&
  typeof (message as Command).type === 'string';

export function answerCommands(
  handle: (command: Command) => Promise<Readonly<Record<string, unknown>>>,
  onDisconnect: () => void,
): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('run this as a bench child (with an IPC channel)');
  process.on('message', (message: unknown) => {
    if (!isCommand(message)) return;
    handle(message).then(
      (reply) => send({ ...reply, id: message.id }),
      (error: unknown) =>
        send({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  // The bench died or is done with us: stop serving so the process can end.
  process.once('disconnect', onDisconnect);
  send({ id: 0 });
}

export const numberField = (command: Command, field: string): number => {
  const value = command[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${command.type} needs a number ${field}`);
  }
  return value;
};

export const stringField = (command: Command, field: string): string => {
  const value = command[field];
  if (typeof value !== 'string') throw new Error(`${command.type} needs a string ${field}`);
  return value;
};
