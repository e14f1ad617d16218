/** App entry: for now the engine status and a single-image classification (the full UI is issue 4). */
import { EmbedClient } from '../browser/embed-client.ts';
import { BACKENDS } from '../browser/embed-protocol.ts';
import { MODEL_IDS } from '../core/models/registry.ts';

// ?model=lite and ?backend=webgpu|webgl|wasm|cpu override the automatic choices.
const params = new URLSearchParams(location.search);
const backend = BACKENDS.find((b) => b === params.get('backend'));
const status = document.querySelector<HTMLElement>('#engine-status')!;
const model = MODEL_IDS.find((id) => id === (params.get('model') ?? 'default'));
if (!model) showError(status, new Error(`Unknown model "${params.get('model')}"; choose one of: ${MODEL_IDS.join(', ')}.`));
const client = new EmbedClient({ model: model ?? 'default', backend });
const input = document.querySelector<HTMLInputElement>('#query-input')!;
const query = document.querySelector<HTMLElement>('#query')!;

if (model) client.ready().then(
  (info) => (status.textContent = `Model ready: ${info.model} (${info.dims}-d) on ${info.backend}, ${info.backendDetail}; loaded in ${Math.round(info.loadMs)} ms.`),
  (err: Error) => showError(status, err),
);

input.addEventListener('change', async () => {
  const file = input.files?.[0];
  if (!file) return;
  query.replaceChildren();
  const img = new Image();
  img.alt = file.name;
  img.src = URL.createObjectURL(file);
  const list = document.createElement('ol');
  list.setAttribute('aria-label', 'Labels');
  query.append(img, list);
  try {
    const started = performance.now();
    const [outcome] = await client.embed([file]);
    if (!outcome?.ok) throw new Error(outcome?.error ?? 'No result.');
    list.replaceChildren(...outcome.labels.map((l) => Object.assign(document.createElement('li'), { textContent: `${l.name} — ${(l.score * 100).toFixed(1)}%` })));
    status.textContent = `Embedded ${file.name} in ${Math.round(performance.now() - started)} ms.`;
  } catch (err) {
    showError(status, err as Error);
  }
});

function showError(el: HTMLElement, err: Error): void {
  el.textContent = err.message;
  el.classList.add('error');
}
