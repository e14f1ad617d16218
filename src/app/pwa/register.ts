/**
 * Registers the service worker (production builds only) and offers a waiting
 * new version with an unobtrusive prompt; the page reloads only when the
 * person says so, so nothing they are doing is lost to an update.
 */
import { Workbox } from 'workbox-window';
import './update-prompt.css';

export function registerServiceWorker(): void {
  if (import.meta.env.DEV || !('serviceWorker' in navigator)) return;
  const wb = new Workbox('/sw.js');
  wb.addEventListener('waiting', () => {
    showUpdatePrompt(() => {
      wb.addEventListener('controlling', () => location.reload());
      wb.messageSkipWaiting();
    });
  });
  // An app that cannot install still works online; say why in the console only.
  wb.register().catch((err: unknown) => console.warn('Offline use is unavailable: the service worker did not register.', err));
}

function showUpdatePrompt(reload: () => void): void {
  if (document.querySelector('.update-prompt')) return;
  const prompt = document.createElement('div');
  prompt.className = 'update-prompt';
  prompt.setAttribute('role', 'status');
  const text = document.createElement('span');
  text.textContent = 'A new version of Lookalike is ready.';
  const reloadButton = button('Reload', () => {
    reloadButton.disabled = true;
    reload();
  });
  const later = button('Later', () => prompt.remove());
  prompt.append(text, reloadButton, later);
  document.body.append(prompt);
}

function button(label: string, onClick: () => void): HTMLButtonElement {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = label;
  element.addEventListener('click', onClick);
  return element;
}
