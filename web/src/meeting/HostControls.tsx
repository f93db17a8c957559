// Host and co-host controls (docs/protocol.md, "Host requests"), and the notices everyone
// gets when a host acts. The server enforces every rule; what is shown here is only the
// way to ask, with the server's refusal said if it comes.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../strings';
import type { MeetingSession, MeetingState, Notice } from '../session';
import type { Participant, Settings } from '../protocol';
import { Confirm } from '../account';
import { checkName } from './PreJoin';
import './security.css';

export const isModerator = (s: Pick<MeetingState, 'phase' | 'role'>) => s.phase === 'joined' && s.role !== 'participant';

/** What this person may do to `target` (pure; unit-tested). */
export function allowedActions(me: MeetingState['role'], target: Participant['role'] = 'participant') {
  const mod = me === 'host' || me === 'cohost';
  const onHost = target === 'host';
  return {
    mute: mod && !onHost,
    askUnmute: mod,
    stopVideo: mod && !onHost,
    spotlight: mod,
    remove: mod && !onHost,
    setCohost: me === 'host' && target !== 'host',
    makeHost: me === 'host' && target !== 'host',
  };
}

/** Whether "Change my name" is offered: hosts and co-hosts always, others while the
 *  meeting allows it (pure). */
export function mayRename(s: Pick<MeetingState, 'phase' | 'role' | 'settings'>): boolean {
  return s.phase === 'joined' && (s.role !== 'participant' || s.settings?.rename_self !== false);
}

/** The Security button's name: with the number of people waiting, for those who can
 *  let them in. */
export function securityLabel(s: Pick<MeetingState, 'phase' | 'role' | 'waiting'>): string {
  return isModerator(s as MeetingState) && s.waiting.length > 0 ? t.securityWaiting(s.waiting.length) : t.security;
}

/** Whether the Share button works for us under the meeting's settings. */
export function mayShare(s: Pick<MeetingState, 'role' | 'settings'>): boolean {
  return s.role !== 'participant' || s.settings?.screen_share !== 'hosts';
}

function useRequest() {
  const [error, setError] = useState<string | null>(null);
  const run = (f: () => Promise<void>) => {
    setError(null);
    f().catch((e: unknown) => setError(t.requestFailed(e instanceof Error ? e.message : String(e))));
  };
  return { error, run };
}

/** The host section of the Security panel: who waits, the settings, mute all, end. */
export function HostSection({ state, session }: { state: MeetingState; session: MeetingSession }) {
  const { error, run } = useRequest();
  const [ask, setAsk] = useState<null | 'mute_all' | 'end'>(null);
  const s = state.settings;
  const [domains, setDomains] = useState(s?.allowed_domains.join(', ') ?? '');
  useEffect(() => setDomains(s?.allowed_domains.join(', ') ?? ''), [s?.allowed_domains.join(',')]);
  if (!s) return null;
  const mod = isModerator(state);
  const set = (patch: Partial<Settings>) => run(() => session.hostRequest('set_settings', { settings: patch }));
  const toggle = (key: keyof Settings, label: string, value: boolean, flip: (v: boolean) => Partial<Settings>) => (
    <li key={key}>
      <label class="setting">
        <input
          type="checkbox"
          checked={value}
          disabled={!mod}
          data-setting={key}
          onChange={(e) => set(flip(e.currentTarget.checked))}
        />
        <span>{label}</span>
      </label>
    </li>
  );
  return (
    <section class="host-section" aria-labelledby="host-title">
      <h3 id="host-title">{mod ? t.hostControls : t.settingsTitle}</h3>
      {mod && (
        <>
          <h4 id="waiting-title">{t.waitingRoomList(state.waiting.length)}</h4>
          {state.waiting.length > 0 && (
            <>
              <ul class="waiting-list" aria-labelledby="waiting-title">
                {state.waiting.map((w) => (
                  <li key={w.id} data-waiting-person={w.id}>
                    <bdi class="person-name">{w.name}</bdi>
                    <span class="hint"> ({w.signed_in ? t.signedInBadge : t.guestBadge})</span>
                    <span class="row-buttons">
                      <button
                        type="button"
                        class="primary"
                        aria-label={t.admitNamed(w.name)}
                        onClick={() => run(() => session.hostRequest('admit', { participant: w.id }))}
                      >
                        {t.admit}
                      </button>
                      <button
                        type="button"
                        aria-label={t.denyNamed(w.name)}
                        onClick={() => run(() => session.hostRequest('deny', { participant: w.id }))}
                      >
                        {t.deny}
                      </button>
                    </span>
                  </li>
                ))}
              </ul>
              {state.waiting.length > 1 && (
                <button type="button" onClick={() => run(() => session.hostRequest('admit', { participant: 'all' }))}>
                  {t.admitAll}
                </button>
              )}
            </>
          )}
          <h4>{t.settingsTitle}</h4>
        </>
      )}
      {!mod && <p class="hint">{t.settingsReadOnly}</p>}
      <ul class="settings-list">
        {toggle('locked', t.settingLocked, s.locked, (v) => ({ locked: v }))}
        {toggle('waiting_room', t.settingWaitingRoom, s.waiting_room, (v) => ({ waiting_room: v }))}
        {toggle('join_before_host', t.settingJoinBeforeHost, s.join_before_host, (v) => ({ join_before_host: v }))}
        {toggle('members_skip_waiting', t.settingMembersSkip, s.members_skip_waiting, (v) => ({ members_skip_waiting: v }))}
        {toggle('screen_share', t.settingShareHosts, s.screen_share === 'hosts', (v) => ({
          screen_share: v ? 'hosts' : 'everyone',
        }))}
        {toggle('unmute_self', t.settingUnmuteSelf, s.unmute_self, (v) => ({ unmute_self: v }))}
        {toggle('chat', t.settingChat, s.chat, (v) => ({ chat: v }))}
        {toggle('rename_self', t.settingRename, s.rename_self, (v) => ({ rename_self: v }))}
        {toggle('authenticated_only', t.settingAuthenticated, s.authenticated_only, (v) => ({ authenticated_only: v }))}
      </ul>
      <label for="allowed-domains">{t.settingDomains}</label>
      <div class="row">
        <input
          id="allowed-domains"
          type="text"
          value={domains}
          readOnly={!mod}
          spellcheck={false}
          onInput={(e) => setDomains((e.target as HTMLInputElement).value)}
        />
        {mod && (
          <button
            type="button"
            onClick={() =>
              set({
                allowed_domains: domains
                  .split(/[,\s]+/)
                  .map((d) => d.trim().toLowerCase())
                  .filter(Boolean),
              })
            }
          >
            {t.saveDomains}
          </button>
        )}
      </div>
      {mod && (
        <div class="row-buttons host-actions">
          <button type="button" onClick={() => setAsk('mute_all')}>
            {t.muteEveryone}
          </button>
          {state.role === 'host' && (
            <button type="button" class="danger" onClick={() => setAsk('end')}>
              {t.endForAll}
            </button>
          )}
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {ask && (
        <Confirm
          text={ask === 'end' ? t.endForAllConfirm : t.muteEveryoneConfirm}
          confirmLabel={ask === 'end' ? t.endForAll : t.muteEveryone}
          onCancel={() => setAsk(null)}
          onConfirm={() => {
            const which = ask;
            setAsk(null);
            run(() => (which === 'end' ? session.hostRequest('end_meeting', {}) : session.hostRequest('mute_all', {})));
          }}
        />
      )}
    </section>
  );
}

/** A host's actions on one participant, behind a disclosure in the participant list. */
export function PersonActions({
  state,
  session,
  person,
}: {
  state: MeetingState;
  session: MeetingSession;
  person: Participant;
}) {
  const { error, run } = useRequest();
  const [ask, setAsk] = useState<null | 'remove' | 'host'>(null);
  const [ban, setBan] = useState(false);
  const can = allowedActions(state.role, person.role);
  if (!isModerator(state)) return null;
  const req = <K extends Parameters<MeetingSession['hostRequest']>[0]>(
    type: K,
    fields: Parameters<MeetingSession['hostRequest']>[1] & object,
  ) => run(() => session.hostRequest(type, fields as never));
  return (
    <details class="person-actions">
      <summary aria-label={t.actionsFor(person.name)}>⋯</summary>
      <div class="menu">
        {can.mute && (
          <button type="button" onClick={() => req('mute_participant', { participant: person.id })}>
            {t.muteParticipant}
          </button>
        )}
        {can.askUnmute && (
          <button type="button" onClick={() => req('ask_unmute', { participant: person.id })}>
            {t.askUnmute}
          </button>
        )}
        {can.stopVideo && (
          <button type="button" onClick={() => req('stop_video', { participant: person.id })}>
            {t.stopVideo}
          </button>
        )}
        {can.spotlight && (
          <button
            type="button"
            onClick={() => req('spotlight', { participant: state.spotlight === person.id ? null : person.id })}
          >
            {state.spotlight === person.id ? t.removeSpotlight : t.spotlight}
          </button>
        )}
        {can.setCohost && (
          <button
            type="button"
            onClick={() =>
              req('set_role', { participant: person.id, role: person.role === 'cohost' ? 'participant' : 'cohost' })
            }
          >
            {person.role === 'cohost' ? t.removeCohost : t.makeCohost}
          </button>
        )}
        {can.makeHost && (
          <button type="button" onClick={() => setAsk('host')}>
            {t.makeHost}
          </button>
        )}
        {can.remove && (
          <button type="button" class="danger" onClick={() => setAsk('remove')}>
            {t.removeParticipant}
          </button>
        )}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {ask === 'remove' && (
        <Confirm
          text={t.removeConfirm(person.name)}
          confirmLabel={t.removeParticipant}
          onCancel={() => setAsk(null)}
          onConfirm={() => {
            setAsk(null);
            req('remove', { participant: person.id, ban });
          }}
        >
          <label class="setting">
            <input type="checkbox" checked={ban} onChange={(e) => setBan(e.currentTarget.checked)} />
            <span>{t.banCheckbox}</span>
          </label>
        </Confirm>
      )}
      {ask === 'host' && (
        <Confirm
          text={t.makeHostConfirm(person.name)}
          confirmLabel={t.makeHost}
          onCancel={() => setAsk(null)}
          onConfirm={() => {
            setAsk(null);
            req('transfer_host', { participant: person.id });
          }}
        />
      )}
    </details>
  );
}

export function roleLabel(role: Participant['role']): string | null {
  return role === 'host' ? t.roleHost : role === 'cohost' ? t.roleCohost : null;
}

function noticeText(n: Notice, state: MeetingState): string {
  const nameOf = (id?: string) => (id && state.participants.get(id)?.name) || n.name || '';
  switch (n.kind) {
    case 'removed':
      return t.notice.removed(nameOf(n.subject) || '—');
    case 'role':
      return t.notice.role(n.role ?? 'participant');
    case 'waiting':
      return t.notice.waiting(n.name ?? '');
    case 'screen_stopped':
      return t.notice.share_hosts;
    case 'muted_by_host':
      return state.settings?.unmute_self === false ? t.notice.muted_by_host : t.notice.muted_by_host_self;
    default:
      return t.notice[n.kind];
  }
}

/** What hosts did, as short notices with a polite announcement; a host's request to
 *  unmute gets its two answers. */
export function HostNotices({ state, session }: { state: MeetingState; session: MeetingSession }) {
  const [dismissed, setDismissedSet] = useState<ReadonlySet<number>>(new Set());
  const setDismissed = (seq: number) => setDismissedSet(new Set([...dismissed, seq]));
  const shown = state.notices.filter((n) => !dismissed.has(n.seq)).slice(-3);
  if (shown.length === 0) return null;
  return (
    <div class="notices host-notices" role="status" aria-live="polite">
      {shown.map((n) => (
        <div class="notice" key={n.seq} data-notice={n.kind}>
          <p>{noticeText(n, state)}</p>
          {n.kind === 'unmute_requested' && state.local.micMuted ? (
            <>
              <button
                type="button"
                class="primary"
                onClick={() => {
                  setDismissed(n.seq);
                  void session.setMicMuted(false);
                }}
              >
                {t.unmuteNow}
              </button>
              <button type="button" onClick={() => setDismissed(n.seq)}>
                {t.stayMuted}
              </button>
            </>
          ) : (
            <button type="button" onClick={() => setDismissed(n.seq)}>
              {t.dismiss}
            </button>
          )}
        </div>
      ))}
    </div>
  );
}

/** "Change my name": a small modal form that sends `rename`; the roster hears of the new
 *  name from the server. Shown only when mayRename says so. */
export function RenameSelf({ state, session }: { state: MeetingState; session: MeetingSession }) {
  const [open, setOpen] = useState(false);
  if (!mayRename(state)) return null;
  return (
    <>
      <button type="button" class="link-button" onClick={() => setOpen(true)}>
        {t.changeMyName}
      </button>
      {open && <RenameDialog current={state.self?.name ?? ''} session={session} onDone={() => setOpen(false)} />}
    </>
  );
}

function RenameDialog({ current, session, onDone }: { current: string; session: MeetingSession; onDone: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [name, setName] = useState(current);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const problem = checkName(name);
    if (problem) return setError(problem);
    setBusy(true);
    try {
      await session.rename(name.trim());
      onDone();
    } catch (err) {
      const code = (err as { code?: string }).code;
      setError(code === 'forbidden' ? t.renameNotAllowed : t.requestFailed(err instanceof Error ? err.message : String(err)));
      setBusy(false);
    }
  };
  return (
    <dialog ref={dialog} class="confirm rename" aria-labelledby="rename-title" onCancel={onDone}>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <h2 id="rename-title">{t.changeMyName}</h2>
        <label for="rename-input">{t.renameLabel}</label>
        <input
          id="rename-input"
          type="text"
          autoComplete="name"
          maxLength={64}
          value={name}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'rename-error' : undefined}
          onInput={(e) => {
            setName((e.target as HTMLInputElement).value);
            setError(null);
          }}
        />
        {error && (
          <p id="rename-error" class="error" role="alert">
            {error}
          </p>
        )}
        <div class="row-buttons">
          <button type="submit" class="primary" aria-disabled={busy ? true : undefined}>
            {t.renameSave}
          </button>
          <button type="button" onClick={onDone}>
            {t.cancel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
