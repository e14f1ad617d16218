/** Runs the `lookalike` CLI as a real child process, for tests and benchmarks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/node/provision.ts';

const BIN = join(PROJECT_ROOT, 'bin/lookalike.js');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI to its end. `onStderr` sees stderr as it arrives: all of it so
 * far, the process (to kill it) and the new chunk.
 */
export function runLookalike(args: readonly string[], onStderr?: (stderr: string, child: ChildProcess, chunk: string) => void): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    onStderr?.(stderr, child, chunk.toString());
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
