// The command line as an operator meets it: --help, config print, precedence, and the
// exit code 2 with a message naming the culprit for anything unknown or malformed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runOnce, tempDir } from '../lib/server.mjs';

const KEYS = {
  'server.data_dir': ['--data-dir', 'CONCLAVE_DATA_DIR'],
  'server.drain_timeout': ['--drain-timeout', 'CONCLAVE_DRAIN_TIMEOUT'],
  'http.address': ['--http-address', 'CONCLAVE_HTTP_ADDRESS'],
  'http.port': ['--http-port', 'CONCLAVE_HTTP_PORT'],
  'http.web_root': ['--http-web-root', 'CONCLAVE_HTTP_WEB_ROOT'],
  'tls.mode': ['--tls', 'CONCLAVE_TLS'],
  'tls.cert': ['--tls-cert', 'CONCLAVE_TLS_CERT'],
  'tls.key': ['--tls-key', 'CONCLAVE_TLS_KEY'],
  'websocket.max_message_bytes': ['--websocket-max-message-bytes', 'CONCLAVE_WEBSOCKET_MAX_MESSAGE_BYTES'],
  'websocket.idle_timeout': ['--websocket-idle-timeout', 'CONCLAVE_WEBSOCKET_IDLE_TIMEOUT'],
  'rtc.address': ['--rtc-address', 'CONCLAVE_RTC_ADDRESS'],
  'rtc.port': ['--rtc-port', 'CONCLAVE_RTC_PORT'],
  'rtc.announced_ip': ['--rtc-announced-ip', 'CONCLAVE_RTC_ANNOUNCED_IP'],
  'rtc.workers': ['--rtc-workers', 'CONCLAVE_RTC_WORKERS'],
  'rtc.echo': ['--rtc-echo', 'CONCLAVE_RTC_ECHO'],
  'meeting.reconnect_grace': ['--meeting-reconnect-grace', 'CONCLAVE_MEETING_RECONNECT_GRACE'],
  'meeting.max_participants': ['--meeting-max-participants', 'CONCLAVE_MEETING_MAX_PARTICIPANTS'],
  'meeting.create': ['--meeting-create', 'CONCLAVE_MEETING_CREATE'],
  'auth.signup': ['--auth-signup', 'CONCLAVE_AUTH_SIGNUP'],
  'auth.session_ttl': ['--auth-session-ttl', 'CONCLAVE_AUTH_SESSION_TTL'],
  'retention.meeting_days': ['--retention-meeting-days', 'CONCLAVE_RETENTION_MEETING_DAYS'],
  'retention.sweep_interval': ['--retention-sweep-interval', 'CONCLAVE_RETENTION_SWEEP_INTERVAL'],
  'limits.join_attempts': ['--limits-join-attempts', 'CONCLAVE_LIMITS_JOIN_ATTEMPTS'],
  'limits.passcode_failures': ['--limits-passcode-failures', 'CONCLAVE_LIMITS_PASSCODE_FAILURES'],
  'limits.meeting_passcode_failures': ['--limits-meeting-passcode-failures', 'CONCLAVE_LIMITS_MEETING_PASSCODE_FAILURES'],
  'limits.signin_failures': ['--limits-signin-failures', 'CONCLAVE_LIMITS_SIGNIN_FAILURES'],
  'limits.window': ['--limits-window', 'CONCLAVE_LIMITS_WINDOW'],
  'limits.backoff_max': ['--limits-backoff-max', 'CONCLAVE_LIMITS_BACKOFF_MAX'],
  'sfu.last_n': ['--sfu-last-n', 'CONCLAVE_SFU_LAST_N'],
  'log.format': ['--log-format', 'CONCLAVE_LOG_FORMAT'],
  'log.level': ['--log-level', 'CONCLAVE_LOG_LEVEL'],
  'log.ip_addresses': ['--log-ip-addresses', 'CONCLAVE_LOG_IP_ADDRESSES'],
};

test('--help documents every option with its TOML key and environment variable', async () => {
  const r = await runOnce(['--help']);
  assert.equal(r.code, 0);
  for (const [key, [flag, env]] of Object.entries(KEYS)) {
    assert.match(r.stdout, new RegExp(`${flag}\\b`), `--help lacks ${flag}`);
    assert.ok(r.stdout.includes(key), `--help lacks key ${key}`);
    assert.ok(r.stdout.includes(env), `--help lacks ${env}`);
  }
  assert.match(r.stdout, /http\.port: .*\[default: 8080\]/);
  assert.match(r.stdout, /server\.data_dir: .*\[default: data\]/);
  assert.match(r.stdout, /--config/);
  assert.match(r.stdout, /config print/);
});

test('config print lists every key, and its keys are exactly the documented ones', async () => {
  const r = await runOnce(['config', 'print']);
  assert.equal(r.code, 0, r.stderr);
  const printed = new Set();
  let section = '';
  for (const line of r.stdout.split('\n')) {
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) section = s[1];
    const k = /^(\w+) = /.exec(line);
    if (k) printed.add(`${section}.${k[1]}`);
  }
  assert.deepEqual([...printed].sort(), Object.keys(KEYS).sort());
  assert.match(r.stdout, /port = 8080  # default/);
  assert.match(r.stdout, /address = "127.0.0.1"  # default/);
});

test('precedence: flag over environment over file over default', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'conclave.toml');
    writeFileSync(file, '[http]\nport = 1001\naddress = "::1"\n[log]\nformat = "json"\n[server]\ndrain_timeout = 3\n');
    const r = await runOnce(['config', 'print', '--config', file, '--http-port', '1003'], {
      env: { CONCLAVE_HTTP_PORT: '1002', CONCLAVE_LOG_FORMAT: 'human' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /port = 1003  # flag/);
    assert.match(r.stdout, /format = "human"  # environment/);
    assert.match(r.stdout, /address = "::1"  # config file/);
    assert.match(r.stdout, /drain_timeout = 3  # config file/);
    assert.match(r.stdout, /max_message_bytes = 65536  # default/);
    // CONCLAVE_CONFIG names the file when --config is absent.
    const viaEnv = await runOnce(['config', 'print'], { env: { CONCLAVE_CONFIG: file } });
    assert.match(viaEnv.stdout, /port = 1001  # config file/);
    // What config print shows loads back as a config file with the same values.
    const again = join(dir, 'printed.toml');
    writeFileSync(again, r.stdout);
    const r2 = await runOnce(['config', 'print', '--config', again]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(r2.stdout.replace(/  # .*$/gm, ''), r.stdout.replace(/  # .*$/gm, ''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown flag, key or variable: exit 2 and a message that names it', async () => {
  const dir = tempDir();
  try {
    let r = await runOnce(['--htp-port', '80']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--htp-port/);

    const file = join(dir, 'bad.toml');
    writeFileSync(file, '[http]\nprot = 80\n');
    r = await runOnce(['--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown key 'http\.prot'/);
    assert.ok(r.stderr.includes(file), 'the message names the file');

    r = await runOnce([], { env: { CONCLAVE_HTTP_PROT: '80' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CONCLAVE_HTTP_PROT/);

    r = await runOnce(['--http-port', 'eighty']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /http\.port \(flag --http-port\): 'eighty' is not a whole number/);

    writeFileSync(file, '[http\nport = 1');
    r = await runOnce(['--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.toml:1:/);

    r = await runOnce(['--config', join(dir, 'missing.toml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read config file .*missing\.toml/);

    r = await runOnce(['--log-format', 'xml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /log\.format .*human, json/);

    r = await runOnce(['config']);
    assert.equal(r.code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--version prints the version', async () => {
  const r = await runOnce(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\d+\.\d+\.\d+/);
});
