import { describe, expect, test } from 'vitest';
import { deviceId, passcodeFromHash, passcodeFragment } from './credentials';
import { apiErrorOf } from './api';

describe('passcodeFromHash', () => {
  test('reads p= from the fragment, alone or among others', () => {
    expect(passcodeFromHash('#p=abc123')).toBe('abc123');
    expect(passcodeFromHash('#k=x&p=ABC123')).toBe('abc123');
    expect(passcodeFromHash('p=' + 'a'.repeat(10))).toBe('aaaaaaaaaa');
  });
  test('no passcode, or something that cannot be one', () => {
    expect(passcodeFromHash('')).toBeNull();
    expect(passcodeFromHash('#')).toBeNull();
    expect(passcodeFromHash('#p=')).toBeNull();
    expect(passcodeFromHash('#p=a%20b')).toBeNull();
    expect(passcodeFromHash('#p=' + 'a'.repeat(65))).toBeNull();
  });
  test('round trip', () => {
    expect(passcodeFromHash('#' + passcodeFragment('26hmaajhh8'))).toBe('26hmaajhh8');
  });
});

describe('deviceId', () => {
  test('128 bits as base64url, kept once made', () => {
    const store = new Map<string, string>();
    (globalThis as { localStorage?: unknown }).localStorage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
    };
    const id = deviceId(() => new Uint8Array(16).fill(0xfb));
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(deviceId()).toBe(id);
  });
});

describe('apiErrorOf', () => {
  test('typed errors with the wait of too_many_attempts', () => {
    const e = apiErrorOf(429, { error: { code: 'too_many_attempts', message: 'too many attempts, try again in 12 s', retry_after: 12 } });
    expect(e.code).toBe('too_many_attempts');
    expect(e.retryAfter).toBe(12);
    expect(e.status).toBe(429);
    expect(apiErrorOf(401, { error: { code: 'bad_credentials', message: 'x' } }).code).toBe('bad_credentials');
    expect(apiErrorOf(502, 'not json').code).toBe('http_502');
    expect(apiErrorOf(429, null).code).toBe('too_many_attempts');
  });
});
