// The one place for security: the meeting id, the invite link, the host's settings and
// actions, what is encrypted how, the security code and every device that holds our key
// (docs/e2ee.md: no ghost can hold a key without being listed here), and who is in the
// meeting.
//
// The invite link is the page's own address: the meeting id in the path and whatever
// secret the fragment holds (passcode, later keys), which the server never sees.
import { useRef, useState } from 'preact/hooks';
import { t } from '../strings';
import type { MeetingSession, MeetingState } from '../session';
import { HostSection, roleLabel } from './HostControls';
import { CloseIcon, CopyIcon } from './icons';

export function inviteLink(loc: { origin: string; pathname: string; hash: string } = location): string {
  return loc.origin + loc.pathname + loc.hash;
}

export function SecurityPanel({
  state,
  session,
  onClose,
}: {
  state: MeetingState;
  session: MeetingSession;
  onClose: () => void;
}) {
  const link = inviteLink();
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle');
  const field = useRef<HTMLInputElement>(null);
  const doCopy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopy('copied');
    } catch {
      // No clipboard permission (or an insecure page): select the text for a manual copy.
      field.current?.select();
      setCopy('failed');
    }
  };
  const people: { id: string; name: string; role: string | null }[] = [];
  if (state.self) people.push({ id: state.self.id, name: t.you(state.self.name), role: roleLabel(state.role) });
  for (const p of state.participants.values()) people.push({ id: p.id, name: p.name, role: roleLabel(p.role) });
  const https = location.protocol === 'https:';
  return (
    <aside class="panel security" aria-labelledby="security-title">
      <div class="panel-head">
        <h2 id="security-title">{t.securityTitle}</h2>
        <button type="button" class="icon-button" aria-label={t.closeSecurity} title={t.closeSecurity} onClick={onClose}>
          <CloseIcon />
        </button>
      </div>
      <div class="panel-body">
        <dl class="facts">
          <dt>{t.securityMeetingId}</dt>
          <dd data-meeting-id>{state.meetingId}</dd>
        </dl>
        <label for="invite-link">{t.inviteLink}</label>
        <div class="row">
          <input id="invite-link" ref={field} type="text" readOnly value={link} aria-describedby="invite-help" />
          <button type="button" onClick={() => void doCopy()}>
            <CopyIcon />
            <span>{t.copyInvite}</span>
          </button>
        </div>
        <p id="invite-help" class="hint">
          {t.inviteHelp}
        </p>
        <p class="hint" role="status">
          {copy === 'copied' ? t.copied : copy === 'failed' ? t.copyFailed : ''}
        </p>
        <HostSection state={state} session={session} />
        <h3>{t.encryptionTitle}</h3>
        <E2eeSection state={state} />
        <ul class="facts-list" data-encryption={state.e2ee.mode === 'off' ? 'transport' : 'e2ee'}>
          <li>{t.encryptionTransport}</li>
          <li>{https ? t.encryptionSignalingTls : t.encryptionSignalingPlain}</li>
          {state.e2ee.mode === 'off' && <li>{t.encryptionNotE2ee}</li>}
        </ul>
        <h3>{t.inMeetingTitle(people.length)}</h3>
        <p class="hint">{t.inMeetingHelp}</p>
        <ul class="names">
          {people.map((p) => (
            <li key={p.id} data-security-participant={p.id}>
              <bdi>{p.name}</bdi>
              {p.role && <span class="role-badge"> {p.role}</span>}
            </li>
          ))}
        </ul>
      </div>
    </aside>
  );
}

/** The security code and the key holders; for a meeting without E2EE, that it is not. */
function E2eeSection({ state }: { state: MeetingState }) {
  const e = state.e2ee;
  if (e.mode === 'off') {
    return (
      <p class="e2ee-off" data-e2ee-state="off">
        {t.e2eeOffBanner} {t.e2eeOffHelp}
      </p>
    );
  }
  if (e.mode === 'starting' || !e.code) return <p data-e2ee-state="starting">{t.e2eeStarting}</p>;
  const holders = new Set(e.holders.map((h) => h.id));
  const nameOf = (id: string) => state.participants.get(id)?.name ?? id;
  const keyless = [...state.participants.values()].filter((p) => !holders.has(p.id));
  return (
    <div class="e2ee" data-e2ee-state="on">
      <p>
        <strong>{t.e2eeOn}.</strong> {t.e2eeOnHelp}
      </p>
      <h4 id="security-code-title">{t.securityCodeTitle}</h4>
      <p class="security-code" data-security-code={e.code} aria-labelledby="security-code-title">
        {e.code.split(' ').map((g, i) => (
          <span key={i}>{g}</span>
        ))}
      </p>
      <p class="hint">{t.securityCodeHelp}</p>
      <h4>{t.keyHoldersTitle(e.holders.length)}</h4>
      <p class="hint">{t.keyHoldersHelp}</p>
      <ul class="names key-holders" data-key-holders={e.holders.length}>
        <li data-key-holder="self" data-epoch={e.myEpoch} data-key-id={e.myKeyId ?? undefined} data-participant-id={state.self?.id}>
          <bdi>{state.self ? t.you(state.self.name) : t.yourDevice}</bdi> <code>{e.myFingerprint}</code>{' '}
          <span class="hint">{t.keyEpoch(e.myEpoch)}</span>
        </li>
        {e.holders.map((h) => (
          <li key={h.id} data-key-holder={h.id} data-epoch={h.epoch ?? undefined}>
            <bdi>{nameOf(h.id)}</bdi> <code>{h.fingerprint}</code>{' '}
            <span class="hint">{h.epoch === null ? t.noKeyYet : t.keyEpoch(h.epoch)}</span>{' '}
            <span class={h.trust === 'changed' ? 'trust warn' : 'trust hint'} data-trust={h.trust}>
              {t.trust[h.trust]}
              {h.trust !== 'guest' && !h.registered ? ` (${t.notRegistered})` : ''}
            </span>
          </li>
        ))}
        {keyless.map((p) => (
          <li key={p.id} data-no-key={p.id} class="warn">
            {t.holdsNoKey(p.name)}
          </li>
        ))}
      </ul>
    </div>
  );
}
