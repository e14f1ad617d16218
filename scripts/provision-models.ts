/** `npm run models`: provision public/models/ (see src/node/provision.ts). */
import { provisionModels } from '../src/node/provision.ts';

provisionModels().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
