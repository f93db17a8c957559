// The in-call "Settings" dialog: camera, microphone (with its level) and speaker. A
// modal <dialog>: the browser traps focus in it, Escape closes it, and focus goes back to
// the button that opened it. Also the device select and level meter the pre-join screen
// uses.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../strings';
import type { MeetingSession, MeetingState } from '../session';
import {
  canChooseSpeaker,
  choiceOf,
  saveDeviceChoice,
  selectedDevice,
  useDeviceList,
  useMicLevel,
  type DeviceKind,
  type DeviceOption,
} from '../devices';
import { CameraIcon, MicIcon, MicOffIcon } from './icons';
import './prejoin.css';

const LABEL: Record<DeviceKind, string> = {
  camera: t.deviceCamera,
  microphone: t.deviceMicrophone,
  speaker: t.deviceSpeaker,
};

/** A labelled <select> of one kind of device; an empty list shows "No camera found". */
export function DeviceSelect({
  kind,
  id,
  options,
  value,
  onChange,
}: {
  kind: DeviceKind;
  id: string;
  options: readonly DeviceOption[];
  /** The option shown (a deviceId of `options`). */
  value: string;
  /** The new choice; null: the system default. */
  onChange: (deviceId: string | null) => void;
}) {
  const empty = options.length === 0;
  return (
    <div class="device-field">
      <label for={id}>{LABEL[kind]}</label>
      <select
        id={id}
        value={empty ? '' : value}
        disabled={empty}
        onChange={(e) => onChange(choiceOf((e.currentTarget as HTMLSelectElement).value))}
      >
        {empty ? (
          <option value="">{t.deviceNone[kind]}</option>
        ) : (
          options.map((o) => (
            <option key={o.deviceId} value={o.deviceId}>
              {o.label}
            </option>
          ))
        )}
      </select>
    </div>
  );
}

const SEGMENTS = 12;

/** The microphone level as a row of segments: discrete steps read calmly and need no
 *  animation (nothing moves but the value under prefers-reduced-motion). */
export function MicMeter({ level, muted }: { level: number; muted: boolean }) {
  // The first segment lights at a level of 4 or more, so room noise leaves it dark.
  const lit = Math.min(SEGMENTS, Math.floor((level / 100) * SEGMENTS + 0.5));
  return (
    <div class="mic-meter-row">
      {muted ? <MicOffIcon /> : <MicIcon />}
      <div
        class="mic-meter"
        role="meter"
        aria-label={t.deviceMicLevel}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={level}
      >
        {Array.from({ length: SEGMENTS }, (_, i) => (
          <span key={i} class={i < lit ? 'on' : undefined} />
        ))}
      </div>
    </div>
  );
}

export function DeviceSettings({
  state,
  session,
  onClose,
}: {
  state: MeetingState;
  session: MeetingSession;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);

  const l = state.local;
  // Ids and labels can change once a device is opened (first permission): list again.
  const lists = useDeviceList(`${l.devices.microphone}|${l.devices.camera}`);
  const level = useMicLevel(l.microphone);
  // While a device is being opened the select shows the new choice, not the old one.
  const [pending, setPending] = useState<Partial<Record<DeviceKind, string>>>({});
  const [problem, setProblem] = useState<string | null>(null);

  const change = async (kind: DeviceKind, deviceId: string | null) => {
    setProblem(null);
    if (kind === 'speaker') {
      saveDeviceChoice('speaker', deviceId);
      session.setSpeaker(deviceId);
      return;
    }
    setPending((p) => ({ ...p, [kind]: deviceId ?? 'default' }));
    const failed = kind === 'camera' ? await session.switchCamera(deviceId) : await session.switchMicrophone(deviceId);
    setPending((p) => ({ ...p, [kind]: undefined }));
    if (failed) setProblem(t.deviceSwitchFailed[kind]);
    else saveDeviceChoice(kind, deviceId);
  };

  const value = (kind: DeviceKind) => pending[kind] ?? selectedDevice(lists[kind], l.devices[kind]);
  const micMuted = l.micMuted || !l.microphone;

  return (
    <dialog ref={dialog} class="dialog device-settings" aria-labelledby="device-settings-title" onClose={onClose}>
      <h2 id="device-settings-title">{t.deviceSettingsTitle}</h2>
      <p class="hint">{t.deviceSettingsHelp}</p>
      {problem && (
        <p class="device-problem" role="alert">
          {problem}
        </p>
      )}
      <div class="device-group">
        <CameraIcon />
        <div>
          <DeviceSelect
            kind="camera"
            id="settings-camera"
            options={lists.camera}
            value={value('camera')}
            onChange={(id) => void change('camera', id)}
          />
          {l.cameraOff && <p class="hint">{t.deviceCameraOffHint}</p>}
        </div>
      </div>
      <div class="device-group">
        <MicIcon />
        <div>
          <DeviceSelect
            kind="microphone"
            id="settings-microphone"
            options={lists.microphone}
            value={value('microphone')}
            onChange={(id) => void change('microphone', id)}
          />
          <MicMeter level={level} muted={micMuted} />
          {micMuted && l.microphone && <p class="hint">{t.deviceMicMutedHint}</p>}
        </div>
      </div>
      {canChooseSpeaker() ? (
        <div class="device-group">
          <SpeakerIcon />
          <DeviceSelect
            kind="speaker"
            id="settings-speaker"
            options={lists.speaker}
            value={value('speaker')}
            onChange={(id) => void change('speaker', id)}
          />
        </div>
      ) : (
        <p class="hint">{t.deviceSpeakerUnsupported}</p>
      )}
      <form method="dialog" class="dialog-actions">
        <button type="submit" class="primary">
          {t.deviceSettingsClose}
        </button>
      </form>
    </dialog>
  );
}

/** A speaker (icons.tsx has none yet). Decorative: the select carries the name. */
export function SpeakerIcon() {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path d="M4 9h4l5-4v14l-5-4H4z" />
      <path d="M16.5 8.5a5 5 0 0 1 0 7M19 6a8.5 8.5 0 0 1 0 12" />
    </svg>
  );
}
