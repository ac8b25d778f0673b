import type { CommandSpec } from './command-spec';

const COMMON_OPTIONS: [string, string][] = [
  ['--json', 'Print the result as one JSON object on stdout; an error as one JSON object on stderr'],
  ['-h, --help', 'Show this help'],
];

/** The tool's help: every command in one line each. */
export function toolHelp(commands: CommandSpec[], prog: string): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    `Usage: ${prog} <command> [options]`,
    '',
    ...wrap(
      'Manages organizations, tiers and API keys in the database at DATABASE_URL (with REDIS_URL, so running servers ' +
        'see a change at once), or in the embedded database under DATA_DIR while the server is stopped.',
    ),
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Options of every command:',
    ...table(COMMON_OPTIONS),
    '',
    `"${prog} <command> --help" (or "${prog} help <command>") shows a command's arguments and options.`,
    'Exit status: 0 done; 1 the command failed (not found, database unavailable); 2 bad usage or invalid input.',
  ].join('\n');
}

/** One command's help: its forms, what it does, its options. */
export function commandHelp(command: CommandSpec, prog: string): string {
  const options = Object.entries(command.options ?? {}).map(([flag, option]): [string, string] => [
    option.value ? `--${flag} ${option.value}` : `--${flag}`,
    option.help,
  ]);
  return [commandUsage(command, prog), '', ...wrap(command.description), '', 'Options:', ...table([...options, ...COMMON_OPTIONS])].join('\n');
}

export function commandUsage(command: CommandSpec, prog: string): string {
  return command.forms
    .map((form, index) => `${index === 0 ? 'Usage:' : '      '} ${prog} ${command.name}${form ? ` ${form}` : ''} [--json]`)
    .join('\n');
}

function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

function wrap(text: string, columns = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > columns) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line];
}
