import { describe, expect, test } from 'vitest';
import { isMeetingId, meetingPath, newMeetingId, parseMeetingInput } from './meeting-link';

const ORIGIN = 'https://meet.example.org';

describe('newMeetingId', () => {
  test('encodes 80 bits as four groups of four base32 characters', () => {
    expect(newMeetingId(() => new Uint8Array(10))).toBe('0000-0000-0000-0000');
    expect(newMeetingId(() => new Uint8Array(10).fill(0xff))).toBe('zzzz-zzzz-zzzz-zzzz');
    // 0x08 0x42 ... : 00001 00001 00001 ... (5-bit groups of the repeating 0x08 0x42 0x10 0x84 0x21)
    const pattern = new Uint8Array([0x08, 0x42, 0x10, 0x84, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21]);
    expect(newMeetingId(() => pattern)).toBe('1111-1111-1111-1111');
  });
  test('is a valid id the join form and the router accept', () => {
    for (let i = 0; i < 200; i++) {
      const id = newMeetingId();
      expect(id).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/);
      expect(isMeetingId(id)).toBe(true);
      expect(parseMeetingInput(`${ORIGIN}/m/${id}`, ORIGIN)).toEqual({ id, fragment: '' });
    }
  });
  test('does not repeat', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => newMeetingId()));
    expect(seen.size).toBe(1000);
  });
});

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
