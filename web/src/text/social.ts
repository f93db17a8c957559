// Chat, raised hands and reactions. English; merged into `t` by strings.ts.
export const socialText = {
  // Chat panel.
  chatTitle: 'Chat',
  chatClose: 'Close chat',
  chatMessageLabel: 'Message',
  chatPlaceholder: 'Message everyone',
  chatSend: 'Send',
  chatYou: 'You',
  chatSending: 'Sending\u2026',
  chatNotSent: 'Not sent',
  chatRetry: 'Retry',
  chatNewMessages: 'New messages',
  chatEmpty: 'No messages yet. Messages go to everyone in the meeting now; people who join later do not see earlier ones.',
  chatCharsLeft: (n: number) => (n === 1 ? '1 character left' : `${n} characters left`),
  chatHint: 'Enter sends, Shift+Enter starts a new line.',
  /** What a screen reader says when a message arrives. */
  chatAnnounce: (name: string, text: string) => `${name}: ${text}`,
  // Raised hands.
  handRaisedLabel: 'Hand raised',
  participantsClose: 'Close participants',
  // Reactions, by REACTIONS[].key in meeting/social.ts.
  reactionMenuLabel: 'Reactions',
  reactionNames: {
    thumbsUp: 'Thumbs up',
    applause: 'Applause',
    heart: 'Heart',
    laughter: 'Laughter',
    surprise: 'Surprise',
    celebration: 'Celebration',
  },
  reactionAnnounce: (name: string, reaction: string) => `${name} reacted: ${reaction}`,
  reactionYou: 'You',
} as const;
