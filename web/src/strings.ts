// Every string the user sees, in one place so that the interface can be translated:
// this file and the sections in text/ (one per part of the page), merged into one
// object. Components take their text from `t`; none is written inline.
import { prejoinText } from './text/prejoin';
import { socialText } from './text/social';
import { stageText } from './text/stage';
import { roomText } from './text/room';
import { securityText } from './text/security';
import { e2eeText } from './text/e2ee';

const core = {
  appName: 'Conclave',
  tagline: 'Private video meetings on your organisation\u2019s own server.',
  startTitle: 'Start a meeting',
  startBody: 'Create a new meeting and invite people with a link.',
  startButton: 'New meeting',
  joinTitle: 'Join a meeting',
  joinBody: 'Paste the link you were sent, or type the meeting ID.',
  joinLabel: 'Meeting link or ID',
  joinPlaceholder: 'e.g. kfx7-mq2d-9tbe-4hna',
  joinButton: 'Join',
  joinInvalid: 'That does not look like a Conclave meeting link or ID.',
  joinEmpty: 'Enter a meeting link or ID first.',
  newMeetingTitle: 'New meeting',
  meetingTitle: (id: string) => `Meeting ${id}`,
  // Meeting page: before joining.
  nameLabel: 'Your name',
  nameEmpty: 'Enter your name first.',
  nameTooLong: 'Use at most 64 characters.',
  nameInvalid: 'Use letters, digits, spaces and punctuation only.',
  joinMeeting: 'Join meeting',
  joiningMeeting: 'Joining\u2026',
  // Why joining failed, by the server's error code.
  joinFailed: {
    no_such_meeting: "This meeting doesn't exist or the link is incomplete. Ask the host for the full link.",
    meeting_full: 'This meeting is full.',
    forbidden: 'You are not allowed to join this meeting.',
    locked: 'The host has locked this meeting. No one else can join right now.',
    draining: 'The server is restarting. Try again in a minute.',
    unsupported_protocol: 'This page is out of date. Reload it and try again.',
    rate_limited: 'Too many attempts. Wait a moment, then try again.',
    not_connected: 'The server could not be reached. Check your connection and try again.',
    timeout: 'The server did not answer. Try again.',
    other: 'Joining the meeting failed. Try again.',
  } as Record<string, string> & { other: string },
  // A device that could not be used: said once, in plain words, with what it means.
  micProblem: {
    denied: 'Your browser did not allow the use of the microphone, so the others cannot hear you. You can allow it in the site settings of your browser, then unmute.',
    not_found: 'No microphone was found, so the others cannot hear you.',
    in_use: 'The microphone is in use by another program or could not be started, so the others cannot hear you.',
    insecure: 'This browser allows the microphone only over a secure (https) connection.',
    failed: 'The microphone could not be started, so the others cannot hear you.',
  },
  cameraProblem: {
    denied: 'Your browser did not allow the use of the camera, so the others cannot see you. You can allow it in the site settings of your browser, then turn the camera on.',
    not_found: 'No camera was found, so the others cannot see you.',
    in_use: 'The camera is in use by another program or could not be started, so the others cannot see you.',
    insecure: 'This browser allows the camera only over a secure (https) connection.',
    failed: 'The camera could not be started, so the others cannot see you.',
  },
  screenProblem: 'Your screen could not be shared.',
  publishProblem: 'Your camera and microphone could not be sent to the meeting. The others may not see or hear you.',
  dismiss: 'Dismiss',
  // Meeting page: in the meeting.
  reconnecting: 'Reconnecting\u2026',
  reconnectingDetail: 'The connection to the server was interrupted. You will be back in the meeting as soon as it returns.',
  videosLabel: 'Videos',
  controlsLabel: 'Meeting controls',
  muteMic: 'Mute microphone',
  unmuteMic: 'Unmute microphone',
  cameraOff: 'Turn camera off',
  cameraOn: 'Turn camera on',
  shareScreen: 'Share screen',
  stopSharing: 'Stop sharing',
  leaveMeeting: 'Leave meeting',
  participantsTitle: (n: number) => `Participants (${n})`,
  you: (name: string) => `${name} (you)`,
  screenOf: (name: string) => `${name}\u2019s screen`,
  yourScreen: 'Your screen',
  micOff: 'Microphone off',
  videoOff: 'Camera off',
  speaking: 'Speaking',
  alone: 'You are the only one here. Send the meeting link to the people you want to invite.',
  joinedAnnouncement: (name: string) => `${name} joined`,
  leftAnnouncement: (name: string) => `${name} left`,
  // Meeting page: after it.
  leftTitle: 'You left the meeting',
  endedReplaced: 'You joined this meeting in another tab or on another device, so it was closed here.',
  endedRemoved: 'You were removed from the meeting.',
  endedMeeting: 'The meeting has ended.',
  connectionLost: 'The connection to the server was lost and could not be restored.',
  rejoin: 'Join again',
  notFoundTitle: 'Page not found',
  notFoundBody: 'There is nothing at this address.',
  backHome: 'Back to the start page',
  pageTitle: (page: string) => `${page} \u00b7 Conclave`,
  footer: 'Runs on your organisation\u2019s server. No trackers, no third-party requests.',
} as const;

export const en = { ...core, ...prejoinText, ...socialText, ...stageText, ...roomText, ...securityText, ...e2eeText };

export type Strings = typeof en;
export const t: Strings = en;
