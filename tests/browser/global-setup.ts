/** Global set-up of the browser suite: one app server for every test file. */
import type { TestProject } from 'vitest/node';
import { startHarnessServer } from '../harness/server.ts';

declare module 'vitest' {
  export interface ProvidedContext { baseUrl: string }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const server = await startHarnessServer();
  project.provide('baseUrl', server.baseUrl);
  return () => { server.process.kill(); };
}
