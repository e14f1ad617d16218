/** The three views as an ARIA tab list: click or arrow keys to switch; listeners hear which view opened. */
import { byId } from './dom.ts';

export type View = 'search' | 'library' | 'duplicates';
const VIEWS: readonly View[] = ['search', 'library', 'duplicates'];
const listeners: ((view: View) => void)[] = [];
let current: View = 'search';

export function currentView(): View { return current; }

export function onViewChange(listener: (view: View) => void): void { listeners.push(listener); }

export function showView(view: View, focusTab = false): void {
  current = view;
  for (const v of VIEWS) {
    const tab = byId(`tab-${v}`);
    const selected = v === view;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    byId(`panel-${v}`).hidden = !selected;
    if (selected && focusTab) tab.focus();
  }
  for (const listener of listeners) listener(view);
}

export function setUpTabs(): void {
  for (const [i, view] of VIEWS.entries()) {
    const tab = byId(`tab-${view}`);
    tab.addEventListener('click', () => showView(view));
    tab.addEventListener('keydown', (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step === undefined && event.key !== 'Home' && event.key !== 'End') return;
      event.preventDefault();
      const next = event.key === 'Home' ? 0 : event.key === 'End' ? VIEWS.length - 1 : (i + step! + VIEWS.length) % VIEWS.length;
      showView(VIEWS[next]!, true);
    });
  }
}
