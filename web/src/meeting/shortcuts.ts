// Keyboard shortcuts of the meeting: single keys, as in Jitsi and Meet's accessibility
// mode, active only when the person is not typing (a text field, a select or an editable
// element has focus) and no modifier is held (so the browser's and the screen reader's
// own shortcuts stay theirs). The help dialog lists them from SHORTCUTS.
import { useEffect, useRef } from 'preact/hooks';

export type ShortcutAction = 'mic' | 'camera' | 'hand' | 'chat' | 'people' | 'help';

/** Key (KeyboardEvent.key, lowercase) → action, in the order the help dialog lists them. */
export const SHORTCUTS: readonly (readonly [string, ShortcutAction])[] = [
  ['m', 'mic'],
  ['v', 'camera'],
  ['h', 'hand'],
  ['c', 'chat'],
  ['p', 'people'],
  ['?', 'help'],
];

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  repeat: boolean;
  defaultPrevented: boolean;
  /** What has focus: tag name (upper case, as in the DOM), type of an <input>, and
   *  whether it is contenteditable. */
  target: { tagName?: string; type?: string; isContentEditable?: boolean } | null;
}

const TYPING_INPUTS = new Set([
  'text', 'search', 'email', 'url', 'tel', 'password', 'number', 'date', 'time',
  'datetime-local', 'month', 'week',
]);

function isTyping(target: KeyLike['target']): boolean {
  if (!target) return false;
  if (target.isContentEditable) return true;
  switch (target.tagName) {
    case 'TEXTAREA':
    case 'SELECT':
      return true;
    case 'INPUT':
      return TYPING_INPUTS.has((target.type ?? 'text').toLowerCase());
    default:
      return false;
  }
}

/** The action a key press asks for, or null. Shift is allowed: '?' needs it on most
 *  layouts, and a capital M (caps lock) still means mute. */
export function shortcutFor(e: KeyLike): ShortcutAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || e.defaultPrevented) return null;
  if (isTyping(e.target)) return null;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  for (const [k, action] of SHORTCUTS) if (k === key) return action;
  return null;
}

/** Runs `handlers[action]` for shortcut presses on the document while mounted. A modal
 *  dialog that is open takes the keyboard: only '?' is ignored then too. */
export function useShortcuts(handlers: Partial<Record<ShortcutAction, () => void>>): void {
  const ref = useRef(handlers);
  ref.current = handlers;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (document.querySelector('dialog[open]')) return;
      // A KeyboardEvent is a KeyLike (target: the focused element, or the document).
      const action = shortcutFor(e as unknown as KeyLike);
      const run = action && ref.current[action];
      if (!run) return;
      e.preventDefault();
      run();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}
