/** The `lookalike` command line: one small function per command parses its options, then hands over to commands/. */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_BITS, wordsPerCode } from '../core/codes/bits.ts';
import { CODER_KINDS, type CoderKind } from '../core/codes/coder.ts';
import { MODEL_IDS, modelSpec, type ModelSpec } from '../core/models/registry.ts';
import { codeCommand } from './commands/code.ts';
import { embedCommand } from './commands/embed.ts';
import { indexCommand } from './commands/index.ts';
import { searchCommand } from './commands/search.ts';
import { MetadataError, readItemMetadata } from './item-metadata.ts';
import { provisionModels } from './provision.ts';
import { parseWholeNumber } from './whole-number.ts';

const USAGE = `Usage: lookalike <command> [options]

Commands:
  embed <image|url|dir>...           Embed images and print their top-5 ImageNet labels.
  index <dir> -o <file.pack>         Index every image under a folder into a pack.
  search <pack> <image|url|dir>...   The most similar items of a pack for each image.
  code <image|url>...                Each image's binary code, top label and box.

Directories are walked for .jpg .jpeg .png .webp .gif files; http(s) URLs are
fetched (30 s timeout, 50 MB limit).

embed:
  --model <id>      ${MODEL_IDS.join(' | ')} (default: default)
  --json            One JSON object per line.
  --vectors         Include the L2-normalised embedding.
  --batch <n>       Images per model call (default: 16).

index:
  -o, --out <file>  The pack to write. Work in progress is kept in <file>.partial/;
                    after an interruption, run the same command again to resume.
  --meta <file>     Item metadata, .csv (with a header row) or .jsonl; each row is
                    matched to an image by its "id" or "file" column (the path
                    relative to <dir>) and its fields are stored with the item.
  --bits <n>        Code length: a multiple of 32 from 64 to 1024 (default: ${DEFAULT_BITS}).
  --coder <kind>    ${CODER_KINDS.join(' | ')} (default: itq).
  --model <id>      ${MODEL_IDS.join(' | ')} (default: default)

search (the pack decides the model):
  -k <n>            Results per query (default: 10).
  --json            One line per query: {"query", "results": [{"id", "file", "score",
                    "hamming", ...metadata}]}.

code:
  --pack <file>     Take the model and coder from this pack (codes comparable with its
                    items'). Without it: the reference coder (LSH, seed 1), the same anywhere.
  --bits <n>        Reference code length (default: ${DEFAULT_BITS}).
  --model <id>      ${MODEL_IDS.join(' | ')} (default: default)
  --json            One line per image: {"file", "item_0": {"class", "code", "box"}}.

  -h, --help        Show this help.

Exit status: 0 when every image was handled, 1 when any failed, 2 on a usage error.`;

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = { embed: runEmbed, index: runIndex, search: runSearch, code: runCode };

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  const help = (a: string) => a === '-h' || a === '--help';
  if (command === undefined || help(command) || args.some(help)) {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) throw new UsageError(`Unknown command "${command}".`);
  return run(args);
}

async function runEmbed(args: string[]): Promise<number> {
  const { values, positionals: paths } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string', default: 'default' },
      json: { type: 'boolean', default: false },
      vectors: { type: 'boolean', default: false },
      batch: { type: 'string', default: '16' },
    },
  });
  if (paths.length === 0) throw new UsageError('embed needs at least one file, directory or URL.');
  const batchSize = positiveInteger('--batch', values.batch);
  const spec = model(values.model);
  await provisionModels({ log: () => {} });
  const failures = await embedCommand(paths, { spec, json: values.json, vectors: values.vectors, batchSize, write });
  return finish(failures, 'file(s) could not be embedded');
}

async function runIndex(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      meta: { type: 'string' },
      bits: { type: 'string', default: String(DEFAULT_BITS) },
      coder: { type: 'string', default: 'itq' },
      model: { type: 'string', default: 'default' },
    },
  });
  const [dir, ...extra] = positionals;
  if (dir === undefined || extra.length > 0) throw new UsageError('index takes one directory.');
  if (!values.out) throw new UsageError('index needs -o <file.pack>, the pack to write.');
  if (!(await isDirectory(dir))) throw new UsageError(`${dir} is not a directory.`);
  if (!(await isDirectory(dirname(resolve(values.out))))) throw new UsageError(`Cannot write ${values.out}: its folder does not exist.`);
  if (await isDirectory(values.out)) throw new UsageError(`${values.out} is a directory; -o names the pack file to write.`);
  const bits = codeBits(values.bits);
  const coder = values.coder as CoderKind;
  if (!CODER_KINDS.includes(coder)) throw new UsageError(`--coder must be one of ${CODER_KINDS.join(', ')}, not "${values.coder}".`);
  const spec = model(values.model);
  let metadata;
  try {
    metadata = values.meta === undefined ? undefined : await readItemMetadata(values.meta);
  } catch (err) {
    throw err instanceof MetadataError ? new UsageError(err.message) : err;
  }
  await provisionModels({ log: () => {} });
  const { failures } = await indexCommand({ dir, out: values.out, spec, bits, coder, metadata, write });
  return finish(failures, 'image(s) could not be indexed');
}

async function runSearch(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      k: { type: 'string', short: 'k', default: '10' },
      json: { type: 'boolean', default: false },
    },
  });
  const [pack, ...queries] = positionals;
  if (pack === undefined || queries.length === 0) throw new UsageError('search needs a pack and at least one image, directory or URL.');
  const k = positiveInteger('-k', values.k);
  await provisionModels({ log: () => {} });
  const failures = await searchCommand({ pack, queries, k, json: values.json, write });
  return finish(failures, 'query image(s) failed');
}

async function runCode(args: string[]): Promise<number> {
  const { values, positionals: sources } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      pack: { type: 'string' },
      bits: { type: 'string' },
      model: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (sources.length === 0) throw new UsageError('code needs at least one image or URL.');
  if (values.pack !== undefined && (values.bits !== undefined || values.model !== undefined)) {
    throw new UsageError('With --pack, the model and the code length are the pack\'s: leave out --bits and --model.');
  }
  const bits = codeBits(values.bits ?? String(DEFAULT_BITS));
  const spec = model(values.model ?? 'default');
  await provisionModels({ log: () => {} });
  const failures = await codeCommand({ sources, json: values.json, pack: values.pack, spec, bits, write });
  return finish(failures, 'image(s) could not be coded');
}

// ——— helpers ———

class UsageError extends Error {}

function write(line: string): void {
  process.stdout.write(`${line}\n`);
}

function finish(failures: number, what: string): number {
  if (failures > 0) console.error(`${failures} ${what}.`);
  return failures > 0 ? 1 : 0;
}

function model(id: string): ModelSpec {
  try {
    return modelSpec(id);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function positiveInteger(name: string, value: string): number {
  const n = parseWholeNumber(value, 1);
  if (n === undefined) throw new UsageError(`${name} must be a positive integer.`);
  return n;
}

function codeBits(value: string): number {
  const bits = Number(value);
  try {
    wordsPerCode(bits);
  } catch (err) {
    throw new UsageError(`--bits: ${(err as Error).message}`);
  }
  return bits;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

// `lookalike … | head`: stop quietly once the reader has gone.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`lookalike: ${err instanceof Error ? err.message : String(err)}${usage ? '\nRun `lookalike --help` for usage.' : ''}`);
    process.exitCode = usage ? 2 : 1;
  },
);
