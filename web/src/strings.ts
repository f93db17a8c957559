// Every string the user sees, in one place so that the interface can be translated.
// Components take their text from here; none is written inline.
export const en = {
  appName: 'Conclave',
  tagline: 'Private video meetings on your organisation\u2019s own server.',
  startTitle: 'Start a meeting',
  startBody: 'Create a new meeting and invite people with a link.',
  startButton: 'New meeting',
  joinTitle: 'Join a meeting',
  joinBody: 'Paste the link you were sent, or type the meeting ID.',
  joinLabel: 'Meeting link or ID',
  joinPlaceholder: 'e.g. kfx7-mq2d-9tbe',
  joinButton: 'Join',
  joinInvalid: 'That does not look like a Conclave meeting link or ID.',
  joinEmpty: 'Enter a meeting link or ID first.',
  newMeetingTitle: 'New meeting',
  newMeetingBody: 'Creating meetings is not available on this server yet.',
  meetingTitle: (id: string) => `Meeting ${id}`,
  meetingBody: 'Joining meetings is not available on this server yet.',
  notFoundTitle: 'Page not found',
  notFoundBody: 'There is nothing at this address.',
  backHome: 'Back to the start page',
  pageTitle: (page: string) => `${page} \u00b7 Conclave`,
  footer: 'Runs on your organisation\u2019s server. No trackers, no third-party requests.',
} as const;

export type Strings = typeof en;
export const t: Strings = en;
