import { describe, expect, test } from 'vitest';
import { meetingPath, parseMeetingInput } from './meeting-link';

const ORIGIN = 'https://meet.example.org';

describe('parseMeetingInput', () => {
  test('a link to this server keeps the fragment, which is never in the path', () => {
    expect(parseMeetingInput(`${ORIGIN}/m/kfx7-mq2d-9tbe#pc=secret`, ORIGIN)).toEqual({
      id: 'kfx7-mq2d-9tbe',
      fragment: 'pc=secret',
    });
    expect(meetingPath({ id: 'kfx7-mq2d-9tbe', fragment: 'pc=secret' })).toBe('/m/kfx7-mq2d-9tbe#pc=secret');
  });
  test('a link to another server is refused', () => {
    expect(parseMeetingInput('https://evil.example/m/kfx7-mq2d-9tbe', ORIGIN)).toBeNull();
  });
  test('a bare id, capitals and surrounding space are accepted', () => {
    expect(parseMeetingInput('  KFX7-MQ2D-9TBE ', ORIGIN)).toEqual({ id: 'kfx7-mq2d-9tbe', fragment: '' });
  });
  test('what cannot be an id is refused', () => {
    for (const s of ['', 'a', 'a--b', '-ab', 'ab-', '../etc', 'm/a/b', 'x'.repeat(65), 'caf\u00e9']) {
      expect(parseMeetingInput(s, ORIGIN)).toBeNull();
    }
  });
});
