// Sign in, create an account, and the account page (docs/api.md). Plain forms; every
// refusal is said in plain words, with the wait when the server limits attempts.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from './strings';
import { linkHandler, navigate } from './router';
import * as api from './api';
import { meetingPath } from './meeting-link';
import { passcodeFragment, saveHostKey } from './credentials';

export function apiMessage(e: unknown): string {
  if (e instanceof api.ApiError) {
    if (e.code === 'too_many_attempts') return t.tooManyAttempts(e.retryAfter || 1);
    return t.apiError[e.code] ?? t.apiError.other;
  }
  return t.apiError.other;
}

/** The server's answer to /api/session, or null while it is asked. */
export function useSessionInfo(): [api.SessionInfo | null, () => void] {
  const [info, setInfo] = useState<api.SessionInfo | null>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    api
      .getSession()
      .then((s) => live && setInfo(s))
      .catch(() => live && setInfo({ account: null, csrf: null, signup: 'closed', create: 'accounts' }));
    return () => {
      live = false;
    };
  }, [round]);
  return [info, () => setRound((r) => r + 1)];
}

/** Creates a meeting and goes to it (its link carries the passcode in the fragment). */
export async function startNewMeeting(replace = false): Promise<void> {
  const m = await api.createMeeting();
  if (m.host_key) saveHostKey(m.id, m.host_key);
  navigate(meetingPath({ id: m.id, fragment: passcodeFragment(m.passcode) }), null, replace);
}

function Field({
  id,
  label,
  type = 'text',
  value,
  onInput,
  autoComplete,
  help,
}: {
  id: string;
  label: string;
  type?: string;
  value: string;
  onInput: (v: string) => void;
  autoComplete: string;
  help?: string;
}) {
  return (
    <>
      <label for={id}>{label}</label>
      <input
        id={id}
        type={type}
        autoComplete={autoComplete}
        spellcheck={false}
        value={value}
        aria-describedby={help ? `${id}-help` : undefined}
        onInput={(e) => onInput((e.target as HTMLInputElement).value)}
      />
      {help && (
        <p id={`${id}-help`} class="hint">
          {help}
        </p>
      )}
    </>
  );
}

/** Where signing in (or up) continues: '/new' when the person pressed New meeting. */
function nextAfterSignIn(): string {
  return (history.state as { next?: unknown } | null)?.next === '/new' ? '/new' : '/';
}

export function SignInPage() {
  const [next] = useState(nextAfterSignIn);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [info] = useSessionInfo();
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.signIn(email, password);
      navigate(next, null, next === '/new');
    } catch (err) {
      setError(apiMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card narrow auth" aria-labelledby="signin-title">
      <h1 id="signin-title">{t.signInTitle}</h1>
      {next === '/new' && <p class="hint">{t.signInToStartNotice}</p>}
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Field id="signin-email" label={t.emailLabel} type="email" value={email} onInput={setEmail} autoComplete="username" />
        <Field
          id="signin-password"
          label={t.passwordLabel}
          type="password"
          value={password}
          onInput={setPassword}
          autoComplete="current-password"
        />
        <button type="submit" class="primary" aria-disabled={busy ? true : undefined}>
          {t.signIn}
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
      {info && info.signup !== 'closed' && (
        <p>
          {t.noAccountYet}{' '}
          <a
            href="/signup"
            onClick={(e) => {
              if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
              e.preventDefault();
              navigate('/signup', next === '/new' ? { next } : null);
            }}
          >
            {t.signUp}
          </a>
        </p>
      )}
    </section>
  );
}

export function SignUpPage() {
  const [next] = useState(nextAfterSignIn);
  const [info] = useSessionInfo();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [invite, setInvite] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.signUp(email, password, name, invite || undefined);
      navigate(next, null, next === '/new');
    } catch (err) {
      setError(apiMessage(err));
    } finally {
      setBusy(false);
    }
  };
  if (info && info.signup === 'closed') {
    return (
      <section class="card narrow auth" aria-labelledby="signup-title">
        <h1 id="signup-title">{t.signUpTitle}</h1>
        <p>{t.signupClosed}</p>
        <a href="/signin" onClick={linkHandler('/signin')}>
          {t.signIn}
        </a>
      </section>
    );
  }
  return (
    <section class="card narrow auth" aria-labelledby="signup-title">
      <h1 id="signup-title">{t.signUpTitle}</h1>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Field id="signup-name" label={t.nameForAccount} value={name} onInput={setName} autoComplete="name" />
        <Field id="signup-email" label={t.emailLabel} type="email" value={email} onInput={setEmail} autoComplete="username" />
        <Field
          id="signup-password"
          label={t.passwordLabel}
          type="password"
          value={password}
          onInput={setPassword}
          autoComplete="new-password"
          help={t.passwordHelp}
        />
        {info?.signup === 'invite' && (
          <Field id="signup-invite" label={t.inviteLabel} value={invite} onInput={setInvite} autoComplete="off" />
        )}
        <button type="submit" class="primary" aria-disabled={busy ? true : undefined}>
          {t.signUp}
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
      <p>
        {t.haveAccount}{' '}
        <a href="/signin" onClick={linkHandler('/signin')}>
          {t.signIn}
        </a>
      </p>
    </section>
  );
}

/** A yes/no question in a modal dialog; resolves in the callbacks. */
export function Confirm({
  text,
  confirmLabel,
  onConfirm,
  onCancel,
  children,
}: {
  text: string;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  children?: preact.ComponentChildren;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={dialog} class="confirm" aria-labelledby="confirm-text" onCancel={onCancel}>
      <p id="confirm-text">{text}</p>
      {children}
      <div class="row-buttons">
        <button type="button" class="danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
        <button type="button" onClick={onCancel}>
          {t.cancel}
        </button>
      </div>
    </dialog>
  );
}

/** Your data: the export, the operator's actions about you, and deleting the account. */
function YourData() {
  const [entries, setEntries] = useState<api.AuditEntry[] | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.auditAboutMe().then(setEntries, () => setEntries([]));
  }, []);
  const remove = async () => {
    setError(null);
    try {
      await api.deleteAccount(password);
      navigate('/');
    } catch (e) {
      setError(apiMessage(e));
    }
  };
  return (
    <section aria-labelledby="data-title" class="your-data">
      <h2 id="data-title">{t.yourData}</h2>
      <p class="hint">{t.yourDataHelp}</p>
      <p>
        <a href={api.EXPORT_URL} download="conclave-export.json">
          {t.downloadData}
        </a>
      </p>
      <h3>{t.operatorActions}</h3>
      {entries && entries.length === 0 && <p>{t.noOperatorActions}</p>}
      <ul class="audit-list">
        {(entries ?? []).map((e) => (
          <li key={e.seq} data-audit-entry={e.action}>
            {t.auditLine(new Date(e.at * 1000).toLocaleString(), t.auditAction[e.action] ?? e.action)}
          </li>
        ))}
      </ul>
      <h3>{t.deleteAccount}</h3>
      <p class="hint">{t.deleteAccountHelp}</p>
      <button type="button" class="danger" onClick={() => setDeleting(true)}>
        {t.deleteAccount}
      </button>
      {deleting && (
        <Confirm
          text={t.deleteAccountConfirm}
          confirmLabel={t.deleteAccount}
          onCancel={() => setDeleting(false)}
          onConfirm={() => {
            setDeleting(false);
            void remove();
          }}
        >
          <label for="delete-password">{t.passwordToConfirm}</label>
          <input
            id="delete-password"
            type="password"
            autoComplete="current-password"
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </Confirm>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

export function AccountPage() {
  const [info] = useSessionInfo();
  const [meetings, setMeetings] = useState<api.OwnedMeeting[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [links, setLinks] = useState<Record<string, string>>({});
  const [asking, setAsking] = useState<null | { text: string; label: string; run: () => Promise<void> }>(null);
  useEffect(() => {
    if (info?.account) api.ownedMeetings().then(setMeetings, (e) => setError(apiMessage(e)));
  }, [info]);
  if (!info) return null;
  if (!info.account) {
    navigate('/signin', null, true);
    return null;
  }
  const account = info.account;
  const run = async (f: () => Promise<void>) => {
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(apiMessage(e));
    }
  };
  const signOutEverywhere = async () => {
    await api.signOut(true);
    navigate('/');
  };
  return (
    <section class="card narrow account" aria-labelledby="account-title">
      <h1 id="account-title">{t.account}</h1>
      <p>{t.signedInAs(account.name, account.email)}</p>
      <div class="row-buttons">
        <button type="button" onClick={() => void run(async () => (await api.signOut(), navigate('/')))}>
          {t.signOut}
        </button>
        <button
          type="button"
          onClick={() =>
            setAsking({
              text: t.signOutEverywhereConfirm,
              label: t.signOutEverywhere,
              run: signOutEverywhere,
            })
          }
        >
          {t.signOutEverywhere}
        </button>
      </div>
      <h2>{t.yourMeetings}</h2>
      <p class="hint">{t.newPasscodeHelp}</p>
      {meetings && meetings.length === 0 && <p>{t.noMeetings}</p>}
      <ul class="owned-meetings">
        {(meetings ?? []).map((m) => (
          <li key={m.id} data-owned-meeting={m.id}>
            <span class="mono">{m.id}</span>
            <span class="row-buttons">
              <button
                type="button"
                aria-label={t.newLinkFor(m.id)}
                onClick={() =>
                  setAsking({
                    text: t.newLinkConfirm(m.id),
                    label: t.newPasscode,
                    run: async () => {
                      const p = await api.newPasscode(m.id);
                      const url = location.origin + meetingPath({ id: m.id, fragment: passcodeFragment(p) });
                      setLinks((l) => ({ ...l, [m.id]: url }));
                    },
                  })
                }
              >
                {t.newPasscode}
              </button>
              <button
                type="button"
                class="danger"
                aria-label={t.deleteMeetingNamed(m.id)}
                onClick={() =>
                  setAsking({
                    text: t.deleteMeetingConfirm(m.id),
                    label: t.deleteMeeting,
                    run: async () => {
                      await api.deleteMeeting(m.id);
                      setMeetings((ms) => (ms ?? []).filter((x) => x.id !== m.id));
                    },
                  })
                }
              >
                {t.deleteMeeting}
              </button>
            </span>
            {links[m.id] && <CopyLink id={m.id} url={links[m.id]} />}
          </li>
        ))}
      </ul>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {asking && (
        <Confirm
          text={asking.text}
          confirmLabel={asking.label}
          onCancel={() => setAsking(null)}
          onConfirm={() => {
            const a = asking;
            setAsking(null);
            void run(a.run);
          }}
        />
      )}
      <YourData />
    </section>
  );
}

/** A meeting's fresh link (shown once: the passcode cannot be asked for again), with Copy. */
function CopyLink({ id, url }: { id: string; url: string }) {
  const field = useRef<HTMLInputElement>(null);
  const [said, setSaid] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setSaid(t.copied);
    } catch {
      field.current?.select();
      setSaid(t.copyFailed);
    }
  };
  return (
    <span class="new-link">
      <input ref={field} type="text" readOnly value={url} aria-label={t.linkFor(id)} class="link-field" />
      <button type="button" aria-label={t.copyLinkFor(id)} onClick={() => void copy()}>
        {t.copyLink}
      </button>
      <span role="status">{said}</span>
    </span>
  );
}
