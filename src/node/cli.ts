/** The `lookalike` command line. */
import { parseArgs } from 'node:util';
import { MODEL_IDS, modelSpec } from '../core/models/registry.ts';
import { embedCommand } from './commands/embed.ts';
import { provisionModels } from './provision.ts';

const USAGE = `Usage: lookalike <command> [options]

Commands:
  embed <files|dirs...>   Embed images and print their top-5 ImageNet labels.
                          Directories are walked for .jpg .jpeg .png .webp .gif files.

Options:
  --model <id>    ${MODEL_IDS.join(' | ')} (default: default)
  --json          One JSON object per line.
  --vectors       Include the L2-normalised embedding.
  --batch <n>     Images per model call (default: 16).
  -h, --help      Show this help.

Exit status: 0 when every image was embedded, 1 when any failed, 2 on a usage error.`;

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      model: { type: 'string', default: 'default' },
      json: { type: 'boolean', default: false },
      vectors: { type: 'boolean', default: false },
      batch: { type: 'string', default: '16' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...paths] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (command !== 'embed') throw new UsageError(`Unknown command "${command}".`);
  if (paths.length === 0) throw new UsageError('embed needs at least one file or directory.');
  const batchSize = Number(values.batch);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError('--batch must be a positive integer.');
  let spec;
  try { spec = modelSpec(values.model); } catch (err) { throw new UsageError((err as Error).message); }

  await provisionModels({ log: () => {} });
  const write = (line: string) => process.stdout.write(`${line}\n`);
  const failures = await embedCommand(paths, { spec, json: values.json, vectors: values.vectors, batchSize, write });
  if (failures > 0) console.error(`${failures} file(s) could not be embedded.`);
  return failures > 0 ? 1 : 0;
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`lookalike: ${err instanceof Error ? err.message : String(err)}${usage ? '\nRun `lookalike --help` for usage.' : ''}`);
    process.exitCode = usage ? 2 : 1;
  },
);
