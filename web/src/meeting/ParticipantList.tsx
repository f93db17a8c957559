// Everyone in the meeting, with raised hands, microphone state and who is speaking.
// Order: raised hands first, in the order they went up (the order to give the floor in),
// then us, then the others alphabetically in the person's locale.
import { t } from '../strings';
import type { MeetingSession, MeetingState } from '../session';
import type { Participant } from '../protocol';
import { PersonActions, RenameSelf, roleLabel } from './HostControls';
import { CloseIcon, HandIcon, MicOffIcon } from './icons';
import './social.css';

const noHands: ReadonlyMap<string, number> = new Map();

export interface PersonRow {
  id: string;
  name: string;
  self: boolean;
  micOff: boolean;
  /** When the hand went up (ms), or null. */
  hand: number | null;
  role?: Participant['role'];
}

export function orderPeople(people: PersonRow[], collator: Intl.Collator = new Intl.Collator()): PersonRow[] {
  const rank = (p: PersonRow) => (p.hand !== null ? 0 : p.self ? 1 : 2);
  return [...people].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.hand !== null && b.hand !== null ? a.hand - b.hand : 0) ||
      collator.compare(a.name, b.name) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

export function ParticipantList({
  state,
  session,
  hands = noHands,
  onClose,
}: {
  state: MeetingState;
  /** For a host's actions on others; without it the list is read-only. */
  session?: MeetingSession;
  /** Raised hands by participant id (SocialState.hands). */
  hands?: ReadonlyMap<string, number>;
  /** Shows a "Close participants" button that calls it. */
  onClose?: () => void;
}) {
  const self = state.self;
  const people: PersonRow[] = [];
  if (self) {
    people.push({
      id: self.id,
      name: self.name,
      self: true,
      micOff: !state.local.microphone || state.local.micMuted,
      hand: hands.get(self.id) ?? null,
      role: state.role,
    });
  }
  for (const p of state.participants.values()) {
    const mic = p.tracks.find((x) => x.source === 'microphone');
    people.push({
      id: p.id,
      name: p.name,
      self: false,
      micOff: !mic || mic.muted,
      hand: hands.get(p.id) ?? null,
      role: p.role,
    });
  }
  const ordered = orderPeople(people);
  return (
    <aside class="panel people-panel" aria-labelledby="people-title">
      <div class="panel-head">
        <h2 id="people-title">{t.participantsTitle(people.length)}</h2>
        {onClose && (
          <button type="button" class="icon-button" aria-label={t.participantsClose} title={t.participantsClose} onClick={onClose}>
            <CloseIcon />
          </button>
        )}
      </div>
      <div class="panel-body">
        <ul class="people-list">
          {ordered.map((p) => (
            <li
              key={p.id}
              data-participant-item={p.id}
              data-hand={p.hand !== null ? 'raised' : undefined}
              class={state.speaking.has(p.id) ? 'speaking' : undefined}
            >
              <span class="person-name">
                <bdi>{p.self ? t.you(p.name) : p.name}</bdi>
                {roleLabel(p.role) && <span class="role-badge">{roleLabel(p.role)}</span>}
              </span>
              <span class="person-marks">
                {p.hand !== null && (
                  <span class="person-mark hand" role="img" aria-label={t.handRaisedLabel} title={t.handRaisedLabel}>
                    <HandIcon />
                  </span>
                )}
                {p.micOff && (
                  <span class="person-mark" role="img" aria-label={t.micOff} title={t.micOff}>
                    <MicOffIcon />
                  </span>
                )}
              </span>
              {session && p.self && <RenameSelf state={state} session={session} />}
              {session && !p.self && state.participants.get(p.id) && (
                <PersonActions state={state} session={session} person={state.participants.get(p.id)!} />
              )}
            </li>
          ))}
        </ul>
        {people.length === 1 && <p class="hint">{t.alone}</p>}
      </div>
    </aside>
  );
}
