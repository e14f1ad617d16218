/** The page's side of Share Target: when the app was opened by a share, the image that was shared. */
import { SHARED_PARAM, takeSharedImage } from './share-target.ts';

/** The shared image this launch should search with, or null; clears the marker so a reload does not search again. */
export async function sharedImageFromLaunch(): Promise<File | null> {
  const url = new URL(location.href);
  if (!url.searchParams.has(SHARED_PARAM)) return null;
  url.searchParams.delete(SHARED_PARAM);
  history.replaceState(history.state, '', url);
  return takeSharedImage();
}
