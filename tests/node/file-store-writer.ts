/** Child process for file-store.test.ts: commits forever, each commit stamping every page with its number. */
import { FilePageStore } from '../../src/node/file-store.ts';

const store = await FilePageStore.open(process.argv[2]!);
for (let n = 1; ; n++) {
  const stamp = new Uint8Array(100_000).fill(n % 251);
  const pages = Array.from({ length: 20 }, (_, i) => [`page/${i}`, stamp] as const);
  await store.commit(new Map([['manifest', Uint8Array.of(n % 251)], ...pages]));
  if (n === 3) process.stdout.write('committing\n');
}
