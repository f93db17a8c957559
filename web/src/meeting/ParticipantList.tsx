// Everyone in the meeting, us first, with microphone state and who is speaking.
import { t } from '../strings';
import type { MeetingState } from '../session';
import { MicOffIcon } from './icons';

export function ParticipantList({ state }: { state: MeetingState }) {
  const self = state.self;
  const people: { id: string; name: string; self: boolean; micOff: boolean }[] = [];
  if (self) {
    people.push({
      id: self.id,
      name: t.you(self.name),
      self: true,
      micOff: !state.local.microphone || state.local.micMuted,
    });
  }
  for (const p of state.participants.values()) {
    const mic = p.tracks.find((x) => x.source === 'microphone');
    people.push({ id: p.id, name: p.name, self: false, micOff: !mic || mic.muted });
  }
  return (
    <aside class="people" aria-labelledby="people-title">
      <h2 id="people-title">{t.participantsTitle(people.length)}</h2>
      <ul>
        {people.map((p) => (
          <li key={p.id} data-participant-item={p.id} class={state.speaking.has(p.id) ? 'speaking' : undefined}>
            <span class="person-name">{p.name}</span>
            {p.micOff && (
              <span class="tile-state" role="img" aria-label={t.micOff} title={t.micOff}>
                <MicOffIcon />
              </span>
            )}
          </li>
        ))}
      </ul>
      {people.length === 1 && <p class="hint">{t.alone}</p>}
    </aside>
  );
}
