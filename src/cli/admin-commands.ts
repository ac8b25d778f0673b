import { parseArgs } from 'node:util';
import { commandHelp, commandUsage, toolHelp } from './admin-help';
import { type Command, type CommandSpec, UsageError } from './command-spec';
import { KEY_COMMANDS } from './key-commands';
import { ORG_COMMANDS } from './org-commands';

export const COMMANDS: CommandSpec[] = [...ORG_COMMANDS, ...KEY_COMMANDS];

export type Invocation = { kind: 'help'; text: string } | { kind: 'run'; name: string; run: Command };

const HELP = new Set(['-h', '--help']);

/**
 * Reads the command line: `[--json] [help] <group> <command> [arguments and options]`. Help is
 * answered wherever -h/--help appears; anything else is checked in full (usage, then the API's
 * validation rules) before it returns, so nothing connects for a mistake.
 */
export async function parseInvocation(argv: string[], prog: string): Promise<Invocation> {
  const rest = [...argv];
  const options = rest.indexOf('--') < 0 ? rest : rest.slice(0, rest.indexOf('--'));
  let help = options.some((token) => HELP.has(token));
  while (rest[0] === '--json' || HELP.has(rest[0])) rest.shift();
  if (rest[0] === 'help') {
    help = true;
    rest.shift();
  }
  const words: string[] = [];
  while (words.length < 2 && rest.length > 0 && !rest[0].startsWith('-')) words.push(rest.shift()!);

  const name = words.join(' ');
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    if (help && (words.length === 0 || COMMANDS.some((candidate) => candidate.name.startsWith(`${name} `)))) {
      return { kind: 'help', text: toolHelp(COMMANDS, prog) };
    }
    if (words.length === 0) throw new UsageError('a command is required', toolHelp(COMMANDS, prog));
    const group = COMMANDS.filter((candidate) => candidate.name.startsWith(`${words[0]} `)).map((candidate) => candidate.name);
    const known = words.length === 1 && group.length > 0 ? `; "${words[0]}" is followed by one of: ${group.join(', ')}` : '';
    throw new UsageError(`unknown command ${JSON.stringify(name)}${known}`, toolHelp(COMMANDS, prog));
  }
  if (help) return { kind: 'help', text: commandHelp(command, prog) };

  const usage = commandUsage(command, prog);
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(Object.entries(command.options ?? {}).map(([flag, option]) => [flag, { type: option.value ? 'string' : 'boolean' } as const])),
        json: { type: 'boolean' },
      },
    });
    const expected = command.args ?? [];
    if (positionals.length < expected.length) throw new UsageError(`missing ${expected.slice(positionals.length).join(' ')}`);
    if (positionals.length > expected.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[expected.length])}`);
    return { kind: 'run', name, run: await command.prepare({ args: positionals, values }) };
  } catch (error) {
    // parseArgs' own errors (unknown option, missing value) and ours are bad usage: show the right form
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError((error as Error).message, usage);
    }
    throw error;
  }
}
