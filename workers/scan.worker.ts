/** A scan thread's worker (src/core/index/scan-thread.ts): started by the library worker, it scores a part of each large sketch scan. */
import { serveScans, type ScanAttachment } from '../src/core/index/scan-thread.ts';

self.onmessage = (event: MessageEvent<ScanAttachment>) => serveScans(event.data);
