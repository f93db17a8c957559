// The meeting room around the video stage: a reconnecting banner, notices about
// devices, the stage (Stage.tsx), the side panel (participants, chat, security), the
// control bar, and one <audio> per remote audio track.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../strings';
import type { MeetingSession, MeetingState } from '../session';
import { remoteAudio } from './tiles';
import { Stage } from './Stage';
import { ControlBar } from './ControlBar';
import { ParticipantList } from './ParticipantList';
import './room.css';

export function MeetingRoom({
  id,
  state,
  session,
  onLeave,
}: {
  id: string;
  state: MeetingState;
  session: MeetingSession;
  onLeave: () => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  // Entering the meeting moves focus to its heading, so a screen reader starts there
  // (the join button that had it is gone).
  useEffect(() => heading.current?.focus(), []);

  return (
    <section class="meeting" aria-labelledby="meeting-title">
      <div class="meeting-head">
        <h1 id="meeting-title" ref={heading} tabIndex={-1}>
          {t.meetingTitle(id)}
        </h1>
      </div>
      {state.phase === 'reconnecting' && (
        <div class="banner" role="status">
          <strong>{t.reconnecting}</strong> <span>{t.reconnectingDetail}</span>
        </div>
      )}
      <Notices state={state} />
      <div class="meeting-body">
        <Stage state={state} session={session} />
        <ParticipantList state={state} />
      </div>
      <ControlBar state={state} session={session} onLeave={onLeave} />
      {remoteAudio(state).map((a) => (
        <RemoteAudio key={a.trackId} trackId={a.trackId} media={a.media} />
      ))}
      <Announcer state={state} />
    </section>
  );
}

function RemoteAudio({ trackId, media }: { trackId: string; media: MediaStreamTrack }) {
  const el = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const a = el.current;
    if (!a) return;
    a.srcObject = new MediaStream([media]);
    a.play().catch(() => {});
    return () => {
      a.srcObject = null;
    };
  }, [media]);
  return <audio ref={el} autoplay data-track={trackId} />;
}

type NoticeKey = 'mic' | 'camera' | 'screen' | 'error';

/** Device and sending problems, each until dismissed (and again if it comes back). */
function Notices({ state }: { state: MeetingState }) {
  const [dismissed, setDismissed] = useState<Partial<Record<NoticeKey, string>>>({});
  const l = state.local;
  const all: [NoticeKey, string | null][] = [
    ['mic', l.audioProblem && t.micProblem[l.audioProblem]],
    ['camera', l.videoProblem && t.cameraProblem[l.videoProblem]],
    ['screen', l.screenProblem && t.screenProblem],
    ['error', state.error && state.error.message.startsWith('publish') ? t.publishProblem : null],
  ];
  const shown = all.filter(([k, text]) => text && dismissed[k] !== text) as [NoticeKey, string][];
  if (shown.length === 0) return null;
  return (
    <div class="notices">
      {shown.map(([k, text]) => (
        <div class="notice" role="alert" key={k}>
          <p>{text}</p>
          <button type="button" onClick={() => setDismissed((d) => ({ ...d, [k]: text }))}>
            {t.dismiss}
          </button>
        </div>
      ))}
    </div>
  );
}

/** Says who joins and leaves, politely, for screen readers. */
function Announcer({ state }: { state: MeetingState }) {
  const prev = useRef<ReadonlyMap<string, { name: string }> | null>(null);
  const [text, setText] = useState('');
  useEffect(() => {
    const before = prev.current;
    prev.current = state.participants;
    if (!before || before === state.participants || state.phase !== 'joined') return;
    const lines: string[] = [];
    for (const [id, p] of state.participants) if (!before.has(id)) lines.push(t.joinedAnnouncement(p.name));
    for (const [id, p] of before) if (!state.participants.has(id)) lines.push(t.leftAnnouncement(p.name));
    if (lines.length) setText(lines.join('. '));
  }, [state.participants, state.phase]);
  return (
    <div class="sr-only" aria-live="polite">
      {text}
    </div>
  );
}
