/**
 * The camera: live preview, capture (the frame is searched at once), switch
 * between front and back cameras where there are several, and the stream is
 * stopped whenever the camera view closes or the app is hidden or left.
 */
import { searchWith } from '../search/search-view.ts';
import { byId } from '../ui/dom.ts';
import { describeError, notify } from '../ui/notices.ts';
import { onViewChange } from '../ui/tabs.ts';

const CAPTURE_SHORT_SIDE = 256;

const video = byId<HTMLVideoElement>('camera-video');
let stream: MediaStream | null = null;
let facing: 'environment' | 'user' = 'environment';
// Bumped by every open and close: a camera that answers after a newer open, or after the view closed, is stopped at once.
let generation = 0;

export function setUpCamera(): void {
  byId('camera-open').addEventListener('click', () => void open());
  byId('camera-close').addEventListener('click', () => {
    close();
    byId('camera-open').focus(); // the focused button just disappeared with the camera
  });
  byId('camera-capture').addEventListener('click', () => void capture());
  byId('camera-switch').addEventListener('click', () => {
    facing = facing === 'environment' ? 'user' : 'environment';
    void open();
  });
  onViewChange((view) => { if (view !== 'search') close(); });
  document.addEventListener('visibilitychange', () => { if (document.hidden) close(); });
  window.addEventListener('pagehide', close);
}

async function open(): Promise<void> {
  if (!navigator.mediaDevices?.getUserMedia) {
    notify('This browser cannot use a camera here (it needs a secure https:// page). Search with a picture instead.', 'error');
    return;
  }
  stopStream();
  const opening = ++generation;
  let opened: MediaStream;
  try {
    opened = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: facing }, width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });
  } catch (err) {
    if (opening === generation) notify(cameraFailed(err), 'error');
    return;
  }
  if (opening !== generation) {
    for (const track of opened.getTracks()) track.stop();
    return;
  }
  stream = opened;
  video.srcObject = stream;
  byId('camera').hidden = false;
  // Without the list of devices (refused, or not supported) there is nothing to switch to.
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  byId('camera-switch').hidden = devices.filter((d) => d.kind === 'videoinput').length < 2;
  byId('camera-capture').focus();
}

/** Searches the current frame; the latency figure counts from this click. */
async function capture(): Promise<void> {
  const startedAt = performance.now();
  if (!stream || video.videoWidth === 0) return;
  // The model sees a 224 px crop of the short side's central 87.5%: a frame with a
  // 256 px short side loses nothing it uses and encodes and decodes several times faster.
  const scale = Math.min(1, CAPTURE_SHORT_SIDE / Math.min(video.videoWidth, video.videoHeight));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
  const frame = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.92));
  if (frame) await searchWith(frame, 'camera', startedAt);
}

/** getUserMedia's failures in plain words: its DOMException names mean camera problems only here, so describeError does not map them. */
function cameraFailed(err: unknown): string {
  switch ((err as Error)?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'The camera is blocked for this page. Allow camera access in your browser’s site settings (the icon next to the address), then try again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found. Connect a camera, or search with a picture instead.';
    case 'NotReadableError':
      return 'The camera is in use by another app. Close that app, then try again.';
    default:
      return describeError(err);
  }
}

function stopStream(): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
  stream = null;
  video.srcObject = null;
}

function close(): void {
  generation++;
  stopStream();
  byId('camera').hidden = true;
}
