// Before joining: the name the others will see (remembered on this device), and Join.
import { useRef, useState } from 'preact/hooks';
import { t } from '../strings';
import { linkHandler } from '../router';

const NAME_KEY = 'conclave.name';

export function loadName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

function saveName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    /* storage may be off: the name is just not remembered */
  }
}

/** The protocol's rule for names (1–64 characters after trimming, no control
 *  characters); returns the message to show, or null if the name is fine. */
export function checkName(name: string): string | null {
  const n = name.trim();
  if (n === '') return t.nameEmpty;
  if ([...n].length > 64) return t.nameTooLong;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(n)) return t.nameInvalid;
  return null;
}

export function PreJoin({
  id,
  busy,
  error,
  onJoin,
}: {
  id: string;
  busy: boolean;
  /** Why the last attempt failed, or null. */
  error: string | null;
  onJoin: (name: string) => void;
}) {
  const [name, setName] = useState(loadName);
  const [nameError, setNameError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const submit = (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const problem = checkName(name);
    if (problem) {
      setNameError(problem);
      input.current?.focus();
      return;
    }
    saveName(name.trim());
    onJoin(name.trim());
  };
  const shownError = nameError ?? error;
  return (
    <section class="card narrow prejoin" aria-labelledby="prejoin-title">
      <h1 id="prejoin-title">{t.meetingTitle(id)}</h1>
      <p id="prejoin-help">{t.prejoinBody}</p>
      <form onSubmit={submit} noValidate>
        <label for="name-input">{t.nameLabel}</label>
        <div class="row">
          <input
            id="name-input"
            ref={input}
            type="text"
            autoComplete="name"
            spellcheck={false}
            maxLength={64}
            aria-describedby={shownError ? 'prejoin-help prejoin-error' : 'prejoin-help'}
            aria-invalid={nameError ? true : undefined}
            value={name}
            onInput={(e) => {
              setName((e.target as HTMLInputElement).value);
              setNameError(null);
            }}
          />
          <button type="submit" class="primary" aria-disabled={busy ? true : undefined}>
            {t.joinMeeting}
          </button>
        </div>
        {busy && (
          <p class="status" role="status">
            {t.joiningMeeting}
          </p>
        )}
        {shownError && !busy && (
          <p id="prejoin-error" class="error" role="alert">
            {shownError}
          </p>
        )}
      </form>
      <a href="/" onClick={linkHandler('/')}>
        {t.backHome}
      </a>
    </section>
  );
}
