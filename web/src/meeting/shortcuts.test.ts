import { expect, test } from 'vitest';
import { SHORTCUTS, shortcutFor, type KeyLike } from './shortcuts';

const press = (key: string, patch: Partial<KeyLike> = {}): KeyLike => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  repeat: false,
  defaultPrevented: false,
  target: { tagName: 'BODY' },
  ...patch,
});

test('each listed key maps to its action, capitals too', () => {
  expect(shortcutFor(press('m'))).toBe('mic');
  expect(shortcutFor(press('M'))).toBe('mic');
  expect(shortcutFor(press('v'))).toBe('camera');
  expect(shortcutFor(press('h'))).toBe('hand');
  expect(shortcutFor(press('c'))).toBe('chat');
  expect(shortcutFor(press('p'))).toBe('people');
  expect(shortcutFor(press('?'))).toBe('help');
  expect(new Set(SHORTCUTS.map(([, a]) => a)).size).toBe(SHORTCUTS.length);
});

test('other keys do nothing', () => {
  for (const k of ['x', 'Enter', ' ', 'Escape', 'F1', 'ArrowUp', 'Tab']) expect(shortcutFor(press(k))).toBeNull();
});

test('modifiers leave the key to the browser and assistive technology', () => {
  expect(shortcutFor(press('m', { ctrlKey: true }))).toBeNull();
  expect(shortcutFor(press('m', { metaKey: true }))).toBeNull();
  expect(shortcutFor(press('m', { altKey: true }))).toBeNull();
  expect(shortcutFor(press('m', { repeat: true }))).toBeNull();
  expect(shortcutFor(press('m', { defaultPrevented: true }))).toBeNull();
});

test('typing in a field never triggers a shortcut', () => {
  expect(shortcutFor(press('m', { target: { tagName: 'TEXTAREA' } }))).toBeNull();
  expect(shortcutFor(press('m', { target: { tagName: 'INPUT', type: 'text' } }))).toBeNull();
  expect(shortcutFor(press('m', { target: { tagName: 'INPUT' } }))).toBeNull();
  expect(shortcutFor(press('m', { target: { tagName: 'SELECT' } }))).toBeNull();
  expect(shortcutFor(press('m', { target: { tagName: 'DIV', isContentEditable: true } }))).toBeNull();
  // A checkbox or a button with focus is not typing.
  expect(shortcutFor(press('m', { target: { tagName: 'INPUT', type: 'checkbox' } }))).toBe('mic');
  expect(shortcutFor(press('m', { target: { tagName: 'BUTTON' } }))).toBe('mic');
});
