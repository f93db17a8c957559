// The meeting room around the video stage: a reconnecting banner, notices about
// devices, the stage (Stage.tsx) with the reactions over it, one side panel at a time
// (chat, participants, security; a full-screen sheet on phones), the control bar, the
// dialogs (settings, keyboard shortcuts), the keyboard shortcuts themselves, and one
// <audio> per remote audio track, played on the chosen speaker.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { t } from '../strings';
import type { MeetingSession, MeetingState } from '../session';
import { applySink } from '../devices';
import { remoteAudio } from './tiles';
import { Stage } from './Stage';
import { ControlBar, type Panel } from './ControlBar';
import { ParticipantList } from './ParticipantList';
import { SecurityPanel } from './SecurityPanel';
import { HostNotices } from './HostControls';
import { HelpDialog } from './HelpDialog';
import { DeviceSettings } from './DeviceSettings';
import { ChatPanel } from './ChatPanel';
import { ReactionMenu, ReactionOverlay } from './Reactions';
import { Social, sessionTransport, useSocial } from './social';
import { useShortcuts } from './shortcuts';
import './room.css';

type Dialog = 'settings' | 'help' | null;

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

  const social = useMemo(() => new Social(session, sessionTransport(session)), [session]);
  useEffect(() => () => social.dispose(), [social]);
  const so = useSocial(social);
  const handRaised = so.handRaised;

  const [panel, setPanel] = useState<Panel | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [reactionsOpen, setReactionsOpen] = useState(false);
  const [said, say] = useState('');

  const togglePanel = (p: Panel) => setPanel((cur) => (cur === p ? null : p));
  const closePanel = (p: Panel) => {
    setPanel(null);
    // Back to the button that opened it, so keyboard users do not start over.
    requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-panel-button="${p}"]`)?.focus());
  };
  const l = state.local;
  const micOff = l.micMuted || !l.microphone;
  const camOff = l.cameraOff || !l.camera;
  const toggleHand = () => social.setHand(!handRaised);
  const closeReactions = () => {
    setReactionsOpen(false);
    document.querySelector<HTMLElement>('[data-reactions-button]')?.focus();
  };

  useShortcuts({
    mic: () => {
      void session.setMicMuted(!micOff);
      say(micOff ? t.announceUnmuted : t.announceMuted);
    },
    camera: () => {
      void session.setCameraOff(!camOff);
      say(camOff ? t.announceCameraOn : t.announceCameraOff);
    },
    hand: () => {
      toggleHand();
      say(handRaised ? t.announceHandDown : t.announceHandUp);
    },
    chat: () => togglePanel('chat'),
    people: () => togglePanel('people'),
    help: () => setDialog('help'),
  });

  return (
    <section class="meeting" aria-labelledby="meeting-title" data-panel={panel ?? 'none'}>
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
      {state.settings?.e2ee === false && (
        <div class="e2ee-banner" role="note" data-e2ee-banner="off">
          {t.e2eeOffBanner}
        </div>
      )}
      {state.e2ee.holders
        .filter((h) => h.trust === 'changed')
        .map((h) => {
          const name = state.participants.get(h.id)?.name ?? h.id;
          return (
            <div key={h.id} class="e2ee-banner" role="alert" data-key-changed={h.id}>
              <span>{t.keyChanged(name)}</span>{' '}
              <button type="button" onClick={() => void session.acceptKey(h.id)}>
                {t.acceptNewKey(name)}
              </button>
            </div>
          );
        })}
      <Notices state={state} />
      <HostNotices state={state} session={session} />
      <div class="meeting-body">
        <Stage state={state} session={session} hands={so.hands} spotlight={state.spotlight}>
          <ReactionOverlay social={social} />
        </Stage>
        {panel && (
          <div class="panel-slot" id={`panel-${panel}`}>
            {panel === 'chat' && (
              <ChatPanel
                social={social}
                state={so}
                chatOff={state.settings?.chat === false}
                onClose={() => closePanel('chat')}
              />
            )}
            {panel === 'people' && (
              <ParticipantList state={state} session={session} hands={so.hands} onClose={() => closePanel('people')} />
            )}
            {panel === 'security' && (
              <SecurityPanel state={state} session={session} onClose={() => closePanel('security')} />
            )}
          </div>
        )}
      </div>
      <ControlBar
        state={state}
        session={session}
        onLeave={onLeave}
        handRaised={handRaised}
        onHand={toggleHand}
        reactionsOpen={reactionsOpen}
        onReactions={() => setReactionsOpen((o) => !o)}
        reactionMenu={<ReactionMenu social={social} onDone={closeReactions} />}
        panel={panel}
        onPanel={togglePanel}
        unread={so.unread}
        onSettings={() => setDialog('settings')}
        onHelp={() => setDialog('help')}
      />
      {dialog === 'settings' && <DeviceSettings state={state} session={session} onClose={() => setDialog(null)} />}
      {dialog === 'help' && <HelpDialog onClose={() => setDialog(null)} />}
      {remoteAudio(state).map((a) => (
        <RemoteAudio key={a.trackId} trackId={a.trackId} media={a.media} speaker={l.devices?.speaker ?? null} />
      ))}
      <Announcer state={state} />
      <div class="sr-only" aria-live="polite">
        {said}
      </div>
    </section>
  );
}

function RemoteAudio({ trackId, media, speaker }: { trackId: string; media: MediaStreamTrack; speaker: string | null }) {
  const el = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    // Always: going back to the system default (null) must take effect too.
    if (el.current) void applySink(el.current, speaker);
  }, [speaker]);
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
