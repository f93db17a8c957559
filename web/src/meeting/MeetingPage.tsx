// The page at /m/<id>: pre-join, the meeting, and what comes after. It owns one
// MeetingSession for as long as the page shows this meeting, and leaves it when the
// person navigates away or closes the tab. The meeting id comes from the path; the
// passcode from the fragment (#p=…), which goes to the server only inside the join
// message, never in a request line. Without one, the pre-join screen asks for it.
// Someone the waiting room holds sees a waiting screen until a host lets them in.
//
// The pre-join preview's camera and microphone (DevicePreview) are handed to the session
// on joining, so that joining neither asks again nor restarts the camera; leaving the
// page without joining stops them.
//
// document.body.dataset.meetingState says where it is, for tests and styles:
// prejoin | joining | waiting | joined | reconnecting | left | error; and
// document.body.dataset.meetingEnded the reason once it is over (left, removed, denied,
// meeting_ended, replaced, connection_lost, join_failed).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { t } from '../strings';
import { linkHandler, navigate } from '../router';
import { MeetingSession, type MeetingState } from '../session';
import { DevicePreview, chooseDevice, loadDeviceChoices, loadJoinPrefs } from '../devices';
import { useSessionState } from './useSession';
import { deviceId, hostKeyFor, passcodeFromHash } from '../credentials';
import { PreJoin, loadName } from './PreJoin';
import { MeetingRoom } from './MeetingRoom';
import './meeting.css';

export type PageState = 'prejoin' | 'joining' | 'waiting' | 'joined' | 'reconnecting' | 'left' | 'error';

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
  if (s.error.code === 'too_many_attempts') return t.tooManyAttempts(s.error.retryAfter || 1);
  // A refusal by the meeting's policy says why in the server's words.
  if (s.error.code === 'forbidden' && s.error.message) return s.error.message.replace(/^./, (c) => c.toUpperCase()) + '.';
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
    if (state.ended) document.body.dataset.meetingEnded = state.ended;
    else delete document.body.dataset.meetingEnded;
  }, [ps, state.ended]);
  useEffect(
    () => () => {
      delete document.body.dataset.meetingState;
      delete document.body.dataset.meetingEnded;
    },
    [],
  );
  const [passcode, setPasscode] = useState(() => passcodeFromHash(location.hash));

  const join = async (name: string, typed?: string) => {
    const code = typed ?? passcode ?? undefined;
    if (typed) setPasscode(typed);
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
      await session.join(id, name, { passcode: code, hostKey: hostKeyFor(id), device: deviceId() });
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
  if (ps === 'waiting') {
    const leave = () => {
      void session.leave();
      navigate('/', { left: location.pathname + location.hash });
    };
    return <WaitingRoom id={id} state={state} onLeave={leave} />;
  }
  if (ps === 'left' || (ps === 'error' && state.ended !== 'join_failed')) {
    return <Ended id={id} state={state} onRejoin={() => void join(state.self?.name ?? loadName())} />;
  }
  return (
    <PreJoin
      id={id}
      busy={ps === 'joining'}
      error={joinError(state)}
      preview={preview}
      askPasscode={!passcode || (state.error?.code === 'no_such_meeting' && !passcodeFromHash(location.hash))}
      onJoin={(n, p) => void join(n, p)}
    />
  );
}

function Ended({ id, state, onRejoin }: { id: string; state: MeetingState; onRejoin: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const text =
    state.ended === 'replaced'
      ? t.endedReplaced
      : state.ended === 'removed'
        ? t.removedText
        : state.ended === 'meeting_ended'
          ? t.endedForAll
          : state.ended === 'connection_lost'
            ? t.connectionLost
            : state.ended === 'e2ee_unsupported'
              ? t.e2eeUnsupported
              : null;
  // Sent out by a host: coming back is theirs to allow, so no Rejoin button.
  const final =
    state.ended === 'removed' || state.ended === 'denied' || state.ended === 'meeting_ended' || state.ended === 'e2ee_unsupported';
  return (
    <section class="card narrow ended" aria-labelledby="ended-title">
      <h1 id="ended-title" ref={heading} tabIndex={-1}>
        {state.ended === 'denied' ? t.deniedTitle : state.phase === 'left' ? t.leftTitle : t.meetingTitle(id)}
      </h1>
      {text && <p>{text}</p>}
      <div class="row-buttons">
        {!final && (
          <button type="button" class="primary" onClick={onRejoin}>
            {t.rejoin}
          </button>
        )}
        <a href="/" onClick={linkHandler('/')}>
          {t.backHome}
        </a>
      </div>
    </section>
  );
}

/** Held in the waiting room: calm words, our own camera, and the way out. Nothing of the
 *  meeting is shown: the server tells someone waiting nothing about it. */
function WaitingRoom({ id, state, onLeave }: { id: string; state: MeetingState; onLeave: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const camera = state.local.cameraOff ? null : state.local.camera;
  useEffect(() => {
    if (video.current) video.current.srcObject = camera ? new MediaStream([camera]) : null;
  }, [camera]);
  return (
    <section class="card narrow waiting-room" aria-labelledby="waiting-title" data-waiting={state.waitingReason ?? ''}>
      <h1 id="waiting-title" ref={heading} tabIndex={-1}>
        {t.waitingTitle}
      </h1>
      <p class="hint">{t.meetingTitle(id)}</p>
      {camera && <video ref={video} class="waiting-self mirrored" autoplay muted playsInline aria-hidden="true" />}
      <p role="status">{state.waitingReason === 'host_absent' ? t.waitingHostAbsent : t.waitingHostAdmits}</p>
      <p class="hint">{t.waitingPrivacy}</p>
      <div class="row-buttons">
        <button type="button" onClick={onLeave}>
          {t.waitingLeave}
        </button>
      </div>
    </section>
  );
}
