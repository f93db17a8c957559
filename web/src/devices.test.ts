import { describe, expect, test } from 'vitest';
import {
  DEVICES_KEY,
  JOIN_PREFS_KEY,
  chooseDevice,
  choiceOf,
  groupDevices,
  levelFromSamples,
  loadDeviceChoices,
  loadJoinPrefs,
  saveDeviceChoice,
  saveJoinPrefs,
  selectedDevice,
  smoothLevel,
  type DeviceInfoLike,
} from './devices';

const dev = (kind: string, deviceId: string, label = ''): DeviceInfoLike => ({ kind, deviceId, label });

// What Chromium's fake devices list once permission is given.
const FAKE = [
  dev('audioinput', 'default', 'Default - Fake Default Audio Input'),
  dev('audioinput', 'a1', 'Fake Default Audio Input'),
  dev('audioinput', 'a2', 'Fake Audio Input 1'),
  dev('videoinput', 'v1', 'fake_device_0'),
  dev('videoinput', 'v2', 'fake_device_1'),
  dev('audiooutput', 'default', 'Default - Fake Audio Output 1'),
  dev('audiooutput', 'o1', 'Fake Audio Output 1'),
];

describe('device lists', () => {
  test('grouped by kind, with the browser labels', () => {
    const g = groupDevices(FAKE);
    expect(g.camera.map((o) => o.label)).toEqual(['fake_device_0', 'fake_device_1']);
    expect(g.microphone.map((o) => o.deviceId)).toEqual(['default', 'a1', 'a2']);
    expect(g.speaker.map((o) => o.deviceId)).toEqual(['default', 'o1']);
  });

  test('empty labels (before permission) become "Camera 1", "Camera 2", ...', () => {
    const g = groupDevices([dev('videoinput', 'x'), dev('videoinput', 'y', '  '), dev('audioinput', ''), dev('audiooutput', 'z')]);
    expect(g.camera.map((o) => o.label)).toEqual(['Camera 1', 'Camera 2']);
    expect(g.microphone).toEqual([{ deviceId: '', label: 'Microphone 1' }]);
    expect(g.speaker).toEqual([{ deviceId: 'z', label: 'Speaker 1' }]);
  });

  test('each id once; Windows "communications" and unknown kinds are left out', () => {
    const g = groupDevices([
      dev('videoinput', 'v1', 'Cam'),
      dev('videoinput', 'v1', 'Cam again'),
      dev('audioinput', 'communications', 'Communications - Headset'),
      dev('audioinput', 'h', 'Headset'),
      dev('somethingelse', 's', 'Other'),
    ]);
    expect(g.camera).toEqual([{ deviceId: 'v1', label: 'Cam' }]);
    expect(g.microphone).toEqual([{ deviceId: 'h', label: 'Headset' }]);
  });
});

describe('choosing a device', () => {
  const g = groupDevices(FAKE);

  test('the remembered device when it is there', () => {
    expect(chooseDevice(g.camera, 'v2')).toBe('v2');
    expect(chooseDevice(g.microphone, 'a2')).toBe('a2');
  });

  test('the system default (null) when the remembered one is gone, or none was remembered', () => {
    expect(chooseDevice(g.camera, 'unplugged')).toBeNull();
    expect(chooseDevice(g.camera, undefined)).toBeNull();
    expect(chooseDevice(g.camera, null)).toBeNull();
    expect(chooseDevice([], 'v1')).toBe('v1'); // nothing listed: cannot tell, try it
  });

  test('"default" is the system default, listed or not', () => {
    expect(chooseDevice(g.microphone, 'default')).toBeNull();
    expect(chooseDevice(g.camera, 'default')).toBeNull();
  });

  test('a device listed twice is still found', () => {
    const twice = groupDevices([dev('videoinput', 'v1', 'A'), dev('videoinput', 'v1', 'A'), dev('videoinput', 'v2', 'B')]);
    expect(twice.camera).toHaveLength(2);
    expect(chooseDevice(twice.camera, 'v1')).toBe('v1');
  });

  test('before permission (ids hidden) the remembered id is tried', () => {
    const hidden = groupDevices([dev('videoinput', ''), dev('audioinput', '')]);
    expect(chooseDevice(hidden.camera, 'v1')).toBe('v1');
  });

  test('the select shows the device in use, else the default entry, else the first', () => {
    expect(selectedDevice(g.camera, 'v2')).toBe('v2');
    expect(selectedDevice(g.microphone, null)).toBe('default');
    expect(selectedDevice(g.microphone, 'gone')).toBe('default');
    expect(selectedDevice(g.camera, 'gone')).toBe('v1');
    expect(selectedDevice([], 'x')).toBe('');
    expect(choiceOf('default')).toBeNull();
    expect(choiceOf('')).toBeNull();
    expect(choiceOf('v1')).toBe('v1');
  });
});

function memoryStorage(init: Record<string, string> = {}) {
  const data = new Map(Object.entries(init));
  return {
    data,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
  };
}

const throwing = {
  getItem: (): string | null => {
    throw new DOMException('denied', 'SecurityError');
  },
  setItem: (): void => {
    throw new DOMException('full', 'QuotaExceededError');
  },
};

describe('remembered choices', () => {
  test('saved and loaded per kind; null and "default" forget', () => {
    const s = memoryStorage();
    saveDeviceChoice('camera', 'v2', s);
    saveDeviceChoice('microphone', 'a1', s);
    saveDeviceChoice('speaker', 'o1', s);
    expect(loadDeviceChoices(s)).toEqual({ camera: 'v2', microphone: 'a1', speaker: 'o1' });
    saveDeviceChoice('microphone', null, s);
    saveDeviceChoice('speaker', 'default', s);
    expect(loadDeviceChoices(s)).toEqual({ camera: 'v2' });
    expect(JSON.parse(s.data.get(DEVICES_KEY)!)).toEqual({ camera: 'v2' });
  });

  test('storage that throws, is missing or holds garbage gives no choices and never throws', () => {
    expect(loadDeviceChoices(throwing)).toEqual({});
    expect(() => saveDeviceChoice('camera', 'v1', throwing)).not.toThrow();
    expect(loadDeviceChoices(null)).toEqual({});
    expect(loadDeviceChoices(memoryStorage({ [DEVICES_KEY]: '{not json' }))).toEqual({});
    expect(loadDeviceChoices(memoryStorage({ [DEVICES_KEY]: '[1,2]' }))).toEqual({});
    expect(loadDeviceChoices(memoryStorage({ [DEVICES_KEY]: 'null' }))).toEqual({});
    expect(
      loadDeviceChoices(memoryStorage({ [DEVICES_KEY]: JSON.stringify({ camera: 5, microphone: '', speaker: 'o1' }) })),
    ).toEqual({ speaker: 'o1' });
  });

  test('join with microphone/camera off is remembered; anything odd reads as on', () => {
    const s = memoryStorage();
    expect(loadJoinPrefs(s)).toEqual({ micOff: false, cameraOff: false });
    saveJoinPrefs({ micOff: true, cameraOff: false }, s);
    expect(loadJoinPrefs(s)).toEqual({ micOff: true, cameraOff: false });
    expect(loadJoinPrefs(memoryStorage({ [JOIN_PREFS_KEY]: '{"micOff":"yes","cameraOff":1}' }))).toEqual({
      micOff: false,
      cameraOff: false,
    });
    expect(loadJoinPrefs(throwing)).toEqual({ micOff: false, cameraOff: false });
    expect(() => saveJoinPrefs({ micOff: true, cameraOff: true }, throwing)).not.toThrow();
  });
});

function sine(amplitude: number, n = 4800, freq = 440, rate = 48000): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

describe('microphone level', () => {
  test('silence reads 0', () => {
    expect(levelFromSamples(new Float32Array(1024))).toBe(0);
    expect(levelFromSamples([])).toBe(0);
  });

  test('a full-scale sine reads 100', () => {
    expect(levelFromSamples(sine(1))).toBeCloseTo(100, 1);
  });

  test('a sine at -30 dB reads about half', () => {
    const level = levelFromSamples(sine(10 ** (-30 / 20)));
    expect(level).toBeGreaterThan(48);
    expect(level).toBeLessThan(52);
  });

  test('each 6 dB quieter reads 10 lower; below -60 dB reads 0; clipping stays at 100', () => {
    const a = levelFromSamples(sine(0.5));
    const b = levelFromSamples(sine(0.25));
    expect(a - b).toBeCloseTo(10, 0);
    expect(levelFromSamples(sine(10 ** (-70 / 20)))).toBe(0);
    expect(levelFromSamples(new Float32Array(512).fill(1))).toBe(100);
  });

  test('rises at once, falls slowly', () => {
    expect(smoothLevel(20, 80, 100)).toBe(80);
    expect(smoothLevel(80, 0, 100)).toBeCloseTo(65, 5); // 150 per second
    expect(smoothLevel(80, 70, 1000)).toBe(70); // never below the reading
    expect(smoothLevel(50, 0, -5)).toBe(50); // a clock step back does not jump
  });
});
