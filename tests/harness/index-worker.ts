/** The harness page's index worker: index-harness.ts, where OPFS sync access handles exist, as in the app's library worker. */
import { expose } from 'comlink';
import { indexHarness } from './index-harness.ts';

expose(indexHarness);
