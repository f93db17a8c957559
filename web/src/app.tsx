import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from './strings';
import { linkHandler, navigate, useRoute, type Route } from './router';
import { MeetingPage } from './meeting/MeetingPage';
import { meetingPath, parseMeetingInput } from './meeting-link';
import { AccountPage, SignInPage, SignUpPage, apiMessage, startNewMeeting, useSessionInfo } from './account';
import { missingFeatures } from './support';

function titleFor(route: Route): string {
  switch (route.name) {
    case 'home':
      return t.appName;
    case 'new-meeting':
      return t.pageTitle(t.newMeetingTitle);
    case 'meeting':
      return t.pageTitle(t.meetingTitle(route.id));
    case 'signin':
      return t.pageTitle(t.signInTitle);
    case 'signup':
      return t.pageTitle(t.signUpTitle);
    case 'account':
      return t.pageTitle(t.account);
    case 'not-found':
      return t.pageTitle(t.notFoundTitle);
  }
}

export function App() {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const firstRender = useRef(true);
  // A page change inside the app is announced as a real navigation would be: a new title,
  // and focus moved to the new content so a screen reader starts reading there.
  useEffect(() => {
    document.title = titleFor(route);
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    main.current?.focus();
  }, [route]);
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href="/" onClick={link('/')}>
          <span class="logo" aria-hidden="true" />
          {t.appName}
        </a>
        {route.name !== 'meeting' && <AccountLink key={route.name} />}
      </header>
      <main id="main" ref={main} tabIndex={-1} class={route.name === 'meeting' ? 'wide' : undefined}>
        {route.name === 'home' && <Landing />}
        {route.name === 'new-meeting' && <NewMeeting />}
        {route.name === 'signin' && <SignInPage />}
        {route.name === 'signup' && <SignUpPage />}
        {route.name === 'account' && <AccountPage />}
        {route.name === 'meeting' && <Meeting key={route.id} id={route.id} />}
        {route.name === 'not-found' && <Placeholder title={t.notFoundTitle} body={t.notFoundBody} />}
      </main>
      {route.name !== 'meeting' && <footer class="foot">{t.footer}</footer>}
    </div>
  );
}

const link = linkHandler;

/** "Sign in", or the signed-in person's account page, at the top right. */
function AccountLink() {
  const [info] = useSessionInfo();
  if (!info) return null;
  return info.account ? (
    <a class="account-link" href="/account" onClick={link('/account')}>
      {t.account}
    </a>
  ) : (
    <a class="account-link" href="/signin" onClick={link('/signin')}>
      {t.signIn}
    </a>
  );
}

/** /new: asks the server for a meeting and replaces itself with it, so that /new is never
 *  left in history; without the right to create one, says how to get it. */
function NewMeeting() {
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    startNewMeeting(true).catch((e) => {
      if ((e as { code?: string }).code === 'sign_in_required') navigate('/signin', { next: '/new' }, true);
      else setError(apiMessage(e));
    });
  }, []);
  return (
    <section class="card narrow">
      <h1>{t.newMeetingTitle}</h1>
      <p role={error ? 'alert' : 'status'}>{error ?? t.creatingMeeting}</p>
    </section>
  );
}

/** The meeting page, or a plain explanation when this browser cannot take part. */
function Meeting({ id }: { id: string }) {
  const missing = missingFeatures().filter((m) => m !== 'secure_context');
  if (missing.length > 0) {
    return (
      <section class="card narrow" aria-labelledby="unsupported-title" data-unsupported={missing.join(' ')}>
        <h1 id="unsupported-title">{t.unsupportedTitle}</h1>
        {missing.map((m) => (
          <p key={m}>{t.unsupported[m]}</p>
        ))}
        <p>{t.unsupportedHint}</p>
        <a href="/" onClick={link('/')}>
          {t.backHome}
        </a>
      </section>
    );
  }
  return (
    <>
      {!isSecureContext && (
        <p class="banner insecure" role="note">
          {t.unsupported.secure_context}
        </p>
      )}
      <MeetingPage id={id} />
    </>
  );
}

function Landing() {
  const [value, setValue] = useState('');
  const [info] = useSessionInfo();
  const [startError, setStartError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const mayCreate = !info || info.create === 'anyone' || info.account !== null;
  const startMeeting = async () => {
    if (creating) return;
    setCreating(true);
    setStartError(null);
    try {
      await startNewMeeting();
    } catch (e) {
      setStartError(apiMessage(e));
      setCreating(false);
    }
  };
  // Set by the meeting page when the person pressed Leave: offer the way back.
  // history.state stays in this browser; the path may carry the fragment (passcode).
  const left = (history.state as { left?: unknown } | null)?.left;
  const leftPath = typeof left === 'string' && left.startsWith('/m/') ? left : null;
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const join = (e: Event) => {
    e.preventDefault();
    if (value.trim() === '') {
      setError(t.joinEmpty);
      input.current?.focus();
      return;
    }
    const ref = parseMeetingInput(value, location.origin);
    if (!ref) {
      setError(t.joinInvalid);
      input.current?.focus();
      return;
    }
    navigate(meetingPath(ref));
  };

  return (
    <>
      {leftPath && (
        <p class="left-status" role="status">
          <span>{t.leftStatus}</span>{' '}
          <a href={leftPath} onClick={link(leftPath)}>
            {t.rejoinMeeting}
          </a>
        </p>
      )}
      <h1 class="title">{t.appName}</h1>
      <p class="tagline">{t.tagline}</p>
      <div class="cards">
        <section class="card" aria-labelledby="start-title">
          <h2 id="start-title">{t.startTitle}</h2>
          <p>{mayCreate ? t.startBody : t.signInToStart}</p>
          {/* Without the right to create one, the same button leads to signing in, which
              then opens the new meeting. */}
          <button
            type="button"
            class="primary"
            aria-disabled={creating ? true : undefined}
            onClick={() => (mayCreate ? void startMeeting() : navigate('/signin', { next: '/new' }))}
          >
            {t.startButton}
          </button>
          {creating && <p role="status">{t.creatingMeeting}</p>}
          {startError && (
            <p class="error" role="alert">
              {startError}
            </p>
          )}
        </section>
        <section class="card" aria-labelledby="join-title">
          <h2 id="join-title">{t.joinTitle}</h2>
          <p id="join-help">{t.joinBody}</p>
          <form onSubmit={join} noValidate>
            <label for="join-input">{t.joinLabel}</label>
            <div class="row">
              <input
                id="join-input"
                ref={input}
                type="text"
                inputMode="url"
                autoComplete="off"
                spellcheck={false}
                placeholder={t.joinPlaceholder}
                aria-describedby={error ? 'join-help join-error' : 'join-help'}
                aria-invalid={error ? true : undefined}
                value={value}
                onInput={(e) => {
                  setValue((e.target as HTMLInputElement).value);
                  setError(null);
                }}
              />
              <button type="submit">{t.joinButton}</button>
            </div>
            {error && (
              <p id="join-error" class="error" role="alert">
                {error}
              </p>
            )}
          </form>
        </section>
      </div>
    </>
  );
}

function Placeholder({ title, body }: { title: string; body: string }) {
  return (
    <section class="card narrow">
      <h1>{title}</h1>
      <p>{body}</p>
      <a href="/" onClick={link('/')}>
        {t.backHome}
      </a>
    </section>
  );
}
