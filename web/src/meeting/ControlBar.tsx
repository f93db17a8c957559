// The control bar: what a person does to themselves (microphone, camera, screen, hand,
// reactions), the panels (chat, participants, security), settings and help, and leave.
// Toggles say their state with aria-pressed and name what pressing them will do; a panel
// button says whether its panel is open with aria-expanded.
import type { ComponentChildren } from 'preact';
import { t } from '../strings';
import { canShareScreen } from '../media';
import { mayShare, securityLabel } from './HostControls';
import { mayUnmute } from '../session';
import type { MeetingSession, MeetingState } from '../session';
import {
  CameraIcon,
  CameraOffIcon,
  ChatIcon,
  HandIcon,
  HelpIcon,
  LeaveIcon,
  MicIcon,
  MicOffIcon,
  PeopleIcon,
  ScreenIcon,
  SettingsIcon,
  ShieldIcon,
  SmileIcon,
} from './icons';

export type Panel = 'chat' | 'people' | 'security';

export interface ControlBarProps {
  state: MeetingState;
  session: MeetingSession;
  onLeave: () => void;
  handRaised: boolean;
  onHand: () => void;
  reactionsOpen: boolean;
  onReactions: () => void;
  /** The reactions menu, shown above its button while open. */
  reactionMenu?: ComponentChildren;
  panel: Panel | null;
  onPanel: (p: Panel) => void;
  unread: number;
  onSettings: () => void;
  onHelp: () => void;
}

export function ControlBar(p: ControlBarProps) {
  const { state, session } = p;
  const l = state.local;
  const micOff = l.micMuted || !l.microphone;
  const camOff = l.cameraOff || !l.camera;
  const sharing = l.screen !== null;
  const live = state.phase === 'joined';
  const chatLabel = p.unread > 0 ? t.chatUnread(p.unread) : t.chat;
  return (
    <div class="controls" role="group" aria-label={t.controlsLabel}>
      <div class="controls-group">
        <Toggle
          label={micOff ? t.unmuteMic : t.muteMic}
          text={micOff ? t.ctlUnmute : t.ctlMute}
          pressed={micOff}
          onClick={() => void session.setMicMuted(!micOff)}
          icon={micOff ? <MicOffIcon /> : <MicIcon />}
          off={micOff}
          why={micOff && !mayUnmute(state) ? t.cannotUnmute : undefined}
          whyId="why-unmute"
        />
        <Toggle
          label={camOff ? t.cameraOn : t.cameraOff}
          text={t.ctlCamera}
          pressed={camOff}
          onClick={() => void session.setCameraOff(!camOff)}
          icon={camOff ? <CameraOffIcon /> : <CameraIcon />}
          off={camOff}
        />
        {canShareScreen() && (
          <Toggle
            label={sharing ? t.stopSharing : t.shareScreen}
            text={sharing ? t.stopSharing : t.ctlShare}
            pressed={sharing}
            disabled={!live && !sharing}
            blocked={live && !sharing && !mayShare(state)}
            why={live && !sharing && !mayShare(state) ? t.shareHostsOnly : undefined}
            whyId="why-share"
            onClick={() =>
              void (sharing
                ? session.stopScreenShare()
                : mayShare(state)
                  ? session.startScreenShare()
                  : session.notify({ kind: 'share_blocked' }))
            }
            icon={<ScreenIcon />}
          />
        )}
        <Toggle
          label={p.handRaised ? t.lowerHand : t.raiseHand}
          text={p.handRaised ? t.ctlLower : t.ctlRaise}
          pressed={p.handRaised}
          onClick={p.onHand}
          icon={<HandIcon />}
        />
        <div class="menu-anchor">
          <button
            type="button"
            class="control"
            aria-label={t.reactions}
            title={t.reactions}
            aria-haspopup="true"
            aria-expanded={p.reactionsOpen}
            data-reactions-button
            onClick={p.onReactions}
          >
            <SmileIcon />
            <span class="control-text" aria-hidden="true">
              {t.reactions}
            </span>
          </button>
          {p.reactionsOpen && p.reactionMenu}
        </div>
      </div>
      <div class="controls-group">
        <PanelButton panel="chat" current={p.panel} onPanel={p.onPanel} label={chatLabel} text={t.chat} icon={<ChatIcon />}>
          {p.unread > 0 && <Badge count={p.unread > 99 ? '99+' : String(p.unread)} />}
        </PanelButton>
        <PanelButton
          panel="people"
          current={p.panel}
          onPanel={p.onPanel}
          label={t.participants}
          text={t.participants}
          icon={<PeopleIcon />}
        >
          <Badge count={String(state.participants.size + (state.self ? 1 : 0))} muted />
        </PanelButton>
        <PanelButton
          panel="security"
          current={p.panel}
          onPanel={p.onPanel}
          label={securityLabel(state)}
          text={t.security}
          icon={<ShieldIcon />}
        >
          {state.waiting.length > 0 && state.role !== 'participant' && <Badge count={String(state.waiting.length)} />}
        </PanelButton>
        <button type="button" class="control" aria-label={t.settings} title={t.settings} aria-haspopup="dialog" onClick={p.onSettings}>
          <SettingsIcon />
          <span class="control-text" aria-hidden="true">
            {t.settings}
          </span>
        </button>
        <button
          type="button"
          class="control"
          aria-label={t.keyboardShortcuts}
          title={t.keyboardShortcuts}
          aria-haspopup="dialog"
          aria-keyshortcuts="?"
          onClick={p.onHelp}
        >
          <HelpIcon />
          <span class="control-text" aria-hidden="true">
            {t.ctlShortcuts}
          </span>
        </button>
      </div>
      <button type="button" class="control danger" aria-label={t.leaveMeeting} title={t.leaveMeeting} onClick={p.onLeave}>
        <LeaveIcon />
        <span class="control-text" aria-hidden="true">
          {t.ctlLeave}
        </span>
      </button>
    </div>
  );
}

/** A count on a control. Drawn by CSS from data-count, not as text: the button's name
 *  already says it where it matters (unread chat), or the panel's heading does
 *  (participants), and visible text that is not part of a button's name would break
 *  "label in name" for voice-control users. */
function Badge({ count, muted }: { count: string; muted?: boolean }) {
  return <span class={muted ? 'badge muted' : 'badge'} data-count={count} aria-hidden="true" />;
}

function Toggle({
  label,
  text,
  pressed,
  onClick,
  icon,
  disabled,
  blocked,
  why,
  whyId,
  off,
}: {
  label: string;
  /** The short visible text; contained in `label` (WCAG 2.5.3, label in name). */
  text: string;
  pressed: boolean;
  onClick: () => void;
  icon: ComponentChildren;
  disabled?: boolean;
  /** Not allowed now (by the meeting's settings): still focusable, says why when pressed. */
  blocked?: boolean;
  /** Why it does not work now: its description and tooltip. */
  why?: string;
  whyId?: string;
  /** Shown as "off" (a muted microphone), not as "on" (a raised hand). */
  off?: boolean;
}) {
  return (
    <button
      type="button"
      class={off ? 'control off' : 'control'}
      aria-label={label}
      title={why ? `${label}: ${why}` : label}
      aria-pressed={pressed}
      aria-disabled={blocked ? true : undefined}
      aria-describedby={why && whyId ? whyId : undefined}
      disabled={disabled}
      onClick={onClick}
    >
      {icon}
      <span class="control-text" aria-hidden="true">
        {text}
      </span>
      {why && whyId && (
        <span id={whyId} class="sr-only">
          {why}
        </span>
      )}
    </button>
  );
}

function PanelButton({
  panel,
  current,
  onPanel,
  label,
  text,
  icon,
  children,
}: {
  panel: Panel;
  current: Panel | null;
  onPanel: (p: Panel) => void;
  label: string;
  text: string;
  icon: ComponentChildren;
  children?: ComponentChildren;
}) {
  return (
    <button
      type="button"
      class="control"
      aria-label={label}
      title={text}
      aria-expanded={current === panel}
      aria-controls={current === panel ? `panel-${panel}` : undefined}
      data-panel-button={panel}
      onClick={() => onPanel(panel)}
    >
      {icon}
      <span class="control-text" aria-hidden="true">
        {text}
      </span>
      {children}
    </button>
  );
}
