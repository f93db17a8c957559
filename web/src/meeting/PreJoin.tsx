// Before joining: a mirrored camera preview, the microphone level, device choice, "join
// with microphone/camera off", and the name the others will see (remembered on this
// device). The camera and microphone are asked for as soon as the screen opens, since
// the preview is the point of it; refusing them still lets the person join to listen
// and watch. The tracks belong to the DevicePreview the meeting page owns, which hands
// them to the session on joining.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../strings';
import { linkHandler } from '../router';
import {
  canChooseSpeaker,
  selectedDevice,
  trackDeviceIdOrChoice,
  useDeviceList,
  useMicLevel,
  type DevicePreview,
  type PreviewState,
} from '../devices';
import { DeviceSelect, MicMeter } from './DeviceSettings';
import { CameraOffIcon, MicOffIcon } from './icons';
import './prejoin.css';

const NAME_KEY = 'conclave.name';

export function loadName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

function saveName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    /* storage may be off: the name is just not remembered */
  }
}

/** The protocol's rule for names (1–64 characters after trimming, no control
 *  characters); returns the message to show, or null if the name is fine. */
export function checkName(name: string): string | null {
  const n = name.trim();
  if (n === '') return t.nameEmpty;
  if ([...n].length > 64) return t.nameTooLong;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(n)) return t.nameInvalid;
  return null;
}

/** The preview's state as Preact state. */
export function usePreviewState(preview: DevicePreview): PreviewState {
  const [state, setState] = useState(() => preview.getState());
  useEffect(() => {
    setState(preview.getState());
    return preview.subscribe(setState);
  }, [preview]);
  return state;
}

/** What went wrong with the devices, in plain words, and that joining still works. */
export function deviceMessage(p: PreviewState): string | null {
  const audio = p.audioProblem;
  const video = p.cameraOff ? null : p.videoProblem;
  if (audio && video) {
    if (audio === video) return t.prejoinBothProblem[audio];
    return `${t.micProblem[audio]} ${t.cameraProblem[video]} ${t.prejoinStillJoin}`;
  }
  if (audio) return `${t.micProblem[audio]} ${t.prejoinStillJoin}`;
  if (video) return `${t.cameraProblem[video]} ${t.prejoinStillJoin}`;
  return null;
}

export function PreJoin({
  id,
  busy,
  error,
  preview,
  askPasscode = false,
  onJoin,
}: {
  id: string;
  busy: boolean;
  /** Why the last attempt failed, or null. */
  error: string | null;
  preview: DevicePreview;
  /** The link had no passcode (or a wrong one): ask for it. */
  askPasscode?: boolean;
  onJoin: (name: string, passcode?: string) => void;
}) {
  const [name, setName] = useState(loadName);
  const [passcode, setPasscode] = useState('');
  const passcodeInput = useRef<HTMLInputElement>(null);
  const [nameError, setNameError] = useState<string | null>(null);
  const [passError, setPassError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const p = usePreviewState(preview);

  useEffect(() => void preview.start(), [preview]);
  // Labels and ids appear once a device is open: list again then.
  const lists = useDeviceList(`${p.starting}|${p.microphone?.id}|${p.camera?.id}`);
  const level = useMicLevel(p.microphone);

  const submit = (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const problem = checkName(name);
    if (problem) {
      setNameError(problem);
      input.current?.focus();
      return;
    }
    if (askPasscode && passcode.trim() === '') {
      setPassError(t.passcodeMissing);
      passcodeInput.current?.focus();
      return;
    }
    saveName(name.trim());
    onJoin(name.trim(), askPasscode ? passcode.trim().toLowerCase() : undefined);
  };
  const shownError = nameError ?? passError ?? error;
  const devices = deviceMessage(p);

  return (
    <section class="prejoin" aria-labelledby="prejoin-title">
      <div class="prejoin-head">
        <h1 id="prejoin-title">{t.meetingTitle(id)}</h1>
        <p class="prejoin-lead">{t.prejoinLead}</p>
      </div>
      <div class="prejoin-media">
        <Preview state={p} name={name} />
        <MicMeter level={level} muted={p.micOff || !p.microphone} />
        {p.micOff && p.microphone && <p class="hint">{t.prejoinMicIsOff}</p>}
        <div class="prejoin-toggles">
          <label class={`toggle${p.micOff ? ' checked' : ''}`}>
            <input type="checkbox" checked={p.micOff} onChange={(e) => preview.setMicOff(e.currentTarget.checked)} />
            <MicOffIcon />
            <span>{t.prejoinMicOff}</span>
          </label>
          <label class={`toggle${p.cameraOff ? ' checked' : ''}`}>
            <input
              type="checkbox"
              checked={p.cameraOff}
              onChange={(e) => void preview.setCameraOff(e.currentTarget.checked)}
            />
            <CameraOffIcon />
            <span>{t.prejoinCameraOff}</span>
          </label>
        </div>
      </div>
      <div class="prejoin-side">
        {devices && (
          <p class="prejoin-devices-problem" role="alert">
            {devices}
          </p>
        )}
        <form onSubmit={submit} noValidate>
          <label for="name-input">{t.nameLabel}</label>
          <input
            id="name-input"
            ref={input}
            type="text"
            autoComplete="name"
            spellcheck={false}
            maxLength={64}
            aria-describedby={shownError && !passError ? 'prejoin-name-help prejoin-error' : 'prejoin-name-help'}
            aria-invalid={nameError ? true : undefined}
            value={name}
            onInput={(e) => {
              setName((e.target as HTMLInputElement).value);
              setNameError(null);
            }}
          />
          <p id="prejoin-name-help" class="hint">
            {t.prejoinNameHelp}
          </p>
          {askPasscode && (
            <>
              <label for="passcode-input">{t.passcodeLabel}</label>
              <input
                id="passcode-input"
                ref={passcodeInput}
                type="text"
                autoComplete="off"
                spellcheck={false}
                maxLength={64}
                aria-describedby={passError || error ? 'prejoin-passcode-help prejoin-error' : 'prejoin-passcode-help'}
                aria-invalid={passError ? true : undefined}
                value={passcode}
                onInput={(e) => {
                  setPasscode((e.target as HTMLInputElement).value);
                  setPassError(null);
                }}
              />
              <p id="prejoin-passcode-help" class="hint">
                {t.passcodeHelp}
              </p>
            </>
          )}
          <div class="prejoin-devices">
            <DeviceSelect
              kind="camera"
              id="prejoin-camera"
              options={lists.camera}
              value={selectedDevice(lists.camera, trackDeviceIdOrChoice(p.camera, p.choices.camera))}
              onChange={(d) => void preview.setCamera(d)}
            />
            <DeviceSelect
              kind="microphone"
              id="prejoin-microphone"
              options={lists.microphone}
              value={selectedDevice(lists.microphone, trackDeviceIdOrChoice(p.microphone, p.choices.microphone))}
              onChange={(d) => void preview.setMicrophone(d)}
            />
            {canChooseSpeaker() && (
              <DeviceSelect
                kind="speaker"
                id="prejoin-speaker"
                options={lists.speaker}
                value={selectedDevice(lists.speaker, p.choices.speaker)}
                onChange={(d) => preview.setSpeaker(d)}
              />
            )}
          </div>
          <button type="submit" class="primary prejoin-join" aria-disabled={busy ? true : undefined}>
            {t.joinMeeting}
          </button>
          {busy && (
            <p class="status" role="status">
              {t.joiningMeeting}
            </p>
          )}
          {shownError && !busy && (
            <p id="prejoin-error" class="error" role="alert">
              {shownError}
            </p>
          )}
        </form>
        <a href="/" onClick={linkHandler('/')}>
          {t.backHome}
        </a>
      </div>
    </section>
  );
}

function Preview({ state, name }: { state: PreviewState; name: string }) {
  const video = useRef<HTMLVideoElement>(null);
  const camera = state.camera;
  useEffect(() => {
    const el = video.current;
    if (!el) return;
    el.srcObject = camera ? new MediaStream([camera]) : null;
    if (camera) el.play().catch(() => {});
  }, [camera]);
  const placeholder = state.cameraOff
    ? t.prejoinCameraIsOff
    : state.starting
      ? t.prejoinCameraStarting
      : t.prejoinNoCamera;
  return (
    <div class="preview">
      {/* Mirrored, as people expect to see themselves; the others see it unmirrored. */}
      <video
        ref={video}
        data-preview
        class="mirror"
        aria-label={t.prejoinPreviewLabel}
        hidden={!camera}
        autoplay
        playsInline
        muted
      />
      {!camera && (
        <div class="preview-placeholder">
          <div class="avatar" aria-hidden="true">
            {initial(name) || <PersonIcon />}
          </div>
          <p>{placeholder}</p>
        </div>
      )}
    </div>
  );
}

function PersonIcon() {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="36" height="36" aria-hidden="true" focusable="false">
      <circle cx="12" cy="8" r="4" />
      <path d="M4 21a8 8 0 0 1 16 0" />
    </svg>
  );
}

function initial(name: string): string {
  const first = [...name.trim()][0];
  return first ? first.toLocaleUpperCase() : '';
}
