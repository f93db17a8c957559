// The one place for security: today the meeting id, the invite link, who is in the
// meeting and what is encrypted how. The E2EE issue adds the security code and key
// holders here, the meeting-security issue the host's settings and actions.
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
        <ul class="facts-list" data-encryption="transport">
          <li>{t.encryptionTransport}</li>
          <li>{https ? t.encryptionSignalingTls : t.encryptionSignalingPlain}</li>
          <li>{t.encryptionNotE2ee}</li>
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
