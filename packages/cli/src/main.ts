// The wiring of mnist-sym-wasm's commands; each command lives in commands/.
import { Command, CommanderError } from 'commander';
import { isUserInputError } from '@mnist-sym-wasm/core';
import { benchCommand } from './commands/bench';
import { evalCommand } from './commands/eval';
import { explainCommand } from './commands/explain';
import { sweepCommand } from './commands/sweep';
import { sweepSubmitCommand } from './commands/sweep-submit';
import { serveCommand } from './commands/serve';
import { trainCommand } from './commands/train';
import { ExitCodeError } from './run/stop-signals';
import { CLI_VERSION } from './version';

/** Parses argv, runs the command, and returns the exit code (errors as one line, no stack). */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('mnist-sym-wasm')
    .description('Why does a CNN whose weights all start at 0 learn anything? The 2016 experiment on WebAssembly.')
    .version(CLI_VERSION, '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.addCommand(trainCommand());
  program.addCommand(benchCommand());
  program.addCommand(serveCommand());
  program.addCommand(evalCommand());
  program.addCommand(explainCommand());
  program.addCommand(sweepCommand().addCommand(sweepSubmitCommand()));
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode; // commander already printed its one line
    if (e instanceof ExitCodeError) return e.exitCode; // the command already said why
    if (isUserInputError(e)) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`error: internal failure: ${(e as Error)?.message ?? String(e)}\n`);
    if (process.env.MNIST_SYM_WASM_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    return 70;
  }
}
