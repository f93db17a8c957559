// The meeting room around the stage: controls, panels, security, shortcuts, help, and
// the pages before and after it (unsupported browser, left). English; merged into `t`
// by strings.ts.
export const roomText = {
  // Control bar (the mic, camera, share and leave names are in strings.ts).
  raiseHand: 'Raise hand',
  lowerHand: 'Lower hand',
  reactions: 'Reactions',
  chat: 'Chat',
  chatUnread: (n: number) => `Chat, ${n} unread`,
  participants: 'Participants',
  security: 'Security',
  settings: 'Settings',
  keyboardShortcuts: 'Keyboard shortcuts',
  // The short texts under the control bar's icons; each is part of the button's full
  // accessible name, so voice control users can say what they see.
  ctlMute: 'Mute',
  ctlUnmute: 'Unmute',
  ctlCamera: 'Camera',
  ctlShare: 'Share',
  ctlRaise: 'Raise',
  ctlLower: 'Lower',
  ctlShortcuts: 'Shortcuts',
  ctlLeave: 'Leave',
  // Security panel.
  securityTitle: 'Security',
  closeSecurity: 'Close security',
  securityMeetingId: 'Meeting ID',
  inviteLink: 'Invite link',
  inviteHelp: 'Anyone with this link can ask to join. Send it only to the people you invite.',
  copyInvite: 'Copy invite link',
  copied: 'Link copied',
  copyFailed: 'Copying is not allowed here: select the link and copy it yourself.',
  encryptionTitle: 'Encryption',
  encryptionTransport:
    'Audio, video and messages are encrypted on the way between your browser and this server (DTLS-SRTP for media).',
  encryptionSignalingTls: 'The connection to the server uses HTTPS.',
  encryptionSignalingPlain:
    'This page is not served over HTTPS, so meeting messages to the server are not encrypted on the network. Ask the administrator to enable HTTPS.',
  encryptionNotE2ee:
    'End-to-end encryption is not on yet: the server forwards the media and could technically access it.',
  inMeetingTitle: (n: number) => `In this meeting (${n})`,
  inMeetingHelp: 'Everyone the server has let into this meeting. Anyone who receives your audio and video is on this list.',
  // Keyboard shortcuts dialog.
  shortcutsTitle: 'Keyboard shortcuts',
  shortcutsHelp: 'These work when you are not typing in a text field.',
  shortcutKey: 'Key',
  shortcutAction: 'Action',
  shortcutActions: {
    mic: 'Mute or unmute the microphone',
    camera: 'Turn the camera on or off',
    hand: 'Raise or lower your hand',
    chat: 'Open or close the chat',
    people: 'Open or close the participant list',
    help: 'Show this list',
  },
  closeDialog: 'Close',
  // Announcements of what a shortcut did, for screen readers.
  announceMuted: 'Microphone muted',
  announceUnmuted: 'Microphone on',
  announceCameraOff: 'Camera off',
  announceCameraOn: 'Camera on',
  announceHandUp: 'Hand raised',
  announceHandDown: 'Hand lowered',
  // Landing page after leaving.
  leftStatus: 'You left the meeting.',
  rejoinMeeting: 'Rejoin',
  // Unsupported browser or missing features.
  unsupportedTitle: 'This browser cannot join the meeting',
  unsupported: {
    webrtc:
      'This browser cannot send or receive video calls (WebRTC is missing or switched off). Open the link in a current version of Firefox, Chrome, Edge or Safari.',
    websocket: 'This browser cannot keep a live connection to the server (WebSocket is missing).',
    transceivers:
      'This browser is too old for video meetings. Update it, or open the link in a current version of Firefox, Chrome, Edge or Safari.',
    secure_context:
      'Browsers allow the camera and microphone only on secure (https) pages. Ask the administrator for the https address of this server.',
  },
  unsupportedHint: 'Nothing needs to be installed: a current browser is enough.',
} as const;
