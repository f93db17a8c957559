// Mute, camera, screen share and leave. Each toggle says its state with aria-pressed and
// names what pressing it will do.
import { t } from '../strings';
import { canShareScreen } from '../media';
import type { MeetingSession, MeetingState } from '../session';
import { CameraIcon, CameraOffIcon, LeaveIcon, MicIcon, MicOffIcon, ScreenIcon } from './icons';

export function ControlBar({
  state,
  session,
  onLeave,
}: {
  state: MeetingState;
  session: MeetingSession;
  onLeave: () => void;
}) {
  const l = state.local;
  const micOff = l.micMuted || !l.microphone;
  const camOff = l.cameraOff || !l.camera;
  const sharing = l.screen !== null;
  const micLabel = micOff ? t.unmuteMic : t.muteMic;
  const camLabel = camOff ? t.cameraOn : t.cameraOff;
  const shareLabel = sharing ? t.stopSharing : t.shareScreen;
  const live = state.phase === 'joined';
  return (
    <div class="controls" role="group" aria-label={t.controlsLabel}>
      <button
        type="button"
        class="control"
        aria-label={micLabel}
        aria-pressed={micOff}
        onClick={() => void session.setMicMuted(!micOff)}
      >
        {micOff ? <MicOffIcon /> : <MicIcon />}
        <span aria-hidden="true">{micLabel}</span>
      </button>
      <button
        type="button"
        class="control"
        aria-label={camLabel}
        aria-pressed={camOff}
        onClick={() => void session.setCameraOff(!camOff)}
      >
        {camOff ? <CameraOffIcon /> : <CameraIcon />}
        <span aria-hidden="true">{camLabel}</span>
      </button>
      {canShareScreen() && (
        <button
          type="button"
          class="control"
          aria-label={shareLabel}
          aria-pressed={sharing}
          disabled={!live && !sharing}
          onClick={() => void (sharing ? session.stopScreenShare() : session.startScreenShare())}
        >
          <ScreenIcon />
          <span aria-hidden="true">{shareLabel}</span>
        </button>
      )}
      <button type="button" class="control danger" aria-label={t.leaveMeeting} onClick={onLeave}>
        <LeaveIcon />
        <span aria-hidden="true">{t.leaveMeeting}</span>
      </button>
    </div>
  );
}
