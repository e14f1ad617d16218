/** The app's library worker: keeps the index, its IndexedDB store and the thumbnails off the main thread (retraining the coder can take seconds). */
import { expose } from 'comlink';
import { Library } from '../src/browser/library.ts';

expose(new Library());
