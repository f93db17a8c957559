// The page at /m/<id>: pre-join, the meeting, and what comes after. It owns one
// MeetingSession for as long as the page shows this meeting, and leaves it when the
// person navigates away or closes the tab. The meeting id comes from the path; the
// fragment (passcode, later keys) is never read here and never sent anywhere.
//
// The pre-join preview's camera and microphone (DevicePreview) are handed to the session
// on joining, so that joining neither asks again nor restarts the camera; leaving the
// page without joining stops them.
//
// document.body.dataset.meetingState says where it is, for tests and styles:
// prejoin | joining | joined | reconnecting | left | error.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { t } from '../strings';
import { linkHandler, navigate } from '../router';
import { MeetingSession, type MeetingState } from '../session';
import { DevicePreview, chooseDevice, loadDeviceChoices, loadJoinPrefs } from '../devices';
import { useSessionState } from './useSession';
import { PreJoin, loadName } from './PreJoin';
import { MeetingRoom } from './MeetingRoom';
import './meeting.css';

export type PageState = 'prejoin' | 'joining' | 'joined' | 'reconnecting' | 'left' | 'error';

export function pageState(s: MeetingState, starting: boolean): PageState {
  switch (s.phase) {
    case 'idle':
      return starting ? 'joining' : 'prejoin';
    case 'error':
      return starting ? 'joining' : 'error';
    case 'left':
      return starting ? 'joining' : 'left';
    default:
      return s.phase;
  }
}

function joinError(s: MeetingState): string | null {
  if (s.phase !== 'error' || s.ended !== 'join_failed' || !s.error) return null;
  return t.joinFailed[s.error.code] ?? t.joinFailed.other;
}

export function MeetingPage({ id }: { id: string }) {
  const session = useMemo(() => new MeetingSession(), []);
  const preview = useMemo(() => new DevicePreview(), []);
  const state = useSessionState(session);
  // From pressing Join until the session itself says `joining` (the device prompt).
  const [starting, setStarting] = useState(false);
  const gone = useRef(false);

  useEffect(() => {
    const onHide = () => {
      preview.release();
      void session.leave();
    };
    addEventListener('pagehide', onHide);
    return () => {
      gone.current = true;
      removeEventListener('pagehide', onHide);
      preview.release();
      void session.leave();
    };
  }, [session, preview]);

  const ps = pageState(state, starting);
  useEffect(() => {
    document.body.dataset.meetingState = ps;
  }, [ps]);
  useEffect(() => () => void delete document.body.dataset.meetingState, []);

  const join = async (name: string) => {
    setStarting(true);
    try {
      if (preview.available) {
        // Waits for a device request still open (the permission prompt), then takes
        // the tracks as they are, with "join with microphone/camera off" applied.
        const tracks = await preview.take();
        if (tracks) session.adoptLocalTracks(tracks);
      } else {
        // No preview (joining again from the page after the meeting): ask now.
        const prefs = loadJoinPrefs();
        const chosen = loadDeviceChoices();
        await session.startDevices(
          { audio: true, video: !prefs.cameraOff },
          { microphone: chooseDevice([], chosen.microphone), camera: chooseDevice([], chosen.camera) },
        );
        if (prefs.micOff) await session.setMicMuted(true);
        if (prefs.cameraOff) await session.setCameraOff(true);
      }
      session.setSpeaker(preview.getState().choices.speaker);
      if (gone.current) return void session.leave();
      await session.join(id, name);
    } catch {
      // The session's state says what went wrong. It released the devices it had: the
      // preview takes them up again for the next attempt.
      if (!gone.current && session.getState().ended === 'join_failed') void preview.restart();
    } finally {
      if (!gone.current) setStarting(false);
    }
  };

  if (ps === 'joined' || ps === 'reconnecting') {
    // Leave goes back to the start page, which offers the way back in (the path keeps
    // the fragment, so a passcode need not be asked for again).
    const leave = () => {
      void session.leave();
      navigate('/', { left: location.pathname + location.hash });
    };
    return <MeetingRoom id={id} state={state} session={session} onLeave={leave} />;
  }
  if (ps === 'left' || (ps === 'error' && state.ended !== 'join_failed')) {
    return <Ended id={id} state={state} onRejoin={() => void join(state.self?.name ?? loadName())} />;
  }
  return (
    <PreJoin id={id} busy={ps === 'joining'} error={joinError(state)} preview={preview} onJoin={(n) => void join(n)} />
  );
}

function Ended({ id, state, onRejoin }: { id: string; state: MeetingState; onRejoin: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const text =
    state.ended === 'replaced'
      ? t.endedReplaced
      : state.ended === 'removed'
        ? t.endedRemoved
        : state.ended === 'meeting_ended'
          ? t.endedMeeting
          : state.ended === 'connection_lost'
            ? t.connectionLost
            : null;
  return (
    <section class="card narrow ended" aria-labelledby="ended-title">
      <h1 id="ended-title" ref={heading} tabIndex={-1}>
        {state.phase === 'left' ? t.leftTitle : t.meetingTitle(id)}
      </h1>
      {text && <p>{text}</p>}
      <div class="row-buttons">
        <button type="button" class="primary" onClick={onRejoin}>
          {t.rejoin}
        </button>
        <a href="/" onClick={linkHandler('/')}>
          {t.backHome}
        </a>
      </div>
    </section>
  );
}
