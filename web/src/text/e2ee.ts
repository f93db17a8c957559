// End-to-end encryption (issue 6): the Security panel's code and key holders, tile notes
// for media that cannot be decrypted, the banner of a meeting without E2EE. English;
// merged into `t` by strings.ts.
export const e2eeText = {
  e2eeOn: 'End-to-end encrypted',
  e2eeOnHelp:
    'Audio, video, screen shares, chat and reactions are encrypted on your device with keys only the people listed below hold. The server forwards them but cannot see, hear or read them.',
  e2eeStarting: 'Setting up end-to-end encryption…',
  e2eeOffBanner: 'This meeting is not end-to-end encrypted: the server could access its audio, video and chat.',
  e2eeOffHelp: 'The meeting owner turned end-to-end encryption off for this meeting.',
  securityCodeTitle: 'Security code',
  securityCodeHelp:
    'Everyone in the meeting sees this same code. Read it out, or compare it by another channel (phone, in person): if it matches, nobody is listening in. It changes whenever someone joins or leaves.',
  keyHoldersTitle: (n: number) => (n === 1 ? '1 device holds your key' : `${n} devices hold your key`),
  keyHoldersHelp: 'Only these devices can decrypt what you send. Anyone in the meeting who is missing here has no key and receives nothing readable.',
  yourDevice: 'Your device',
  keyEpoch: (n: number) => `key ${n}`,
  noKeyYet: 'no key yet',
  holdsNoKey: (name: string) => `${name}: no key (cannot decrypt your media)`,
  trust: {
    guest: 'guest: compare the security code',
    first: 'first meeting with this device: key remembered',
    pinned: 'known device',
    changed: 'security key changed',
  } as Record<'guest' | 'first' | 'pinned' | 'changed', string>,
  notRegistered: 'not a device their account published',
  keyChanged: (name: string) =>
    `${name}’s security key changed since you last met. It may be a new device, or someone else. Compare the security code with ${name} by another channel before saying anything private.`,
  acceptNewKey: (name: string) => `I checked: trust ${name}’s new key`,
  waitingForKey: 'Waiting for encryption key',
  cannotDecrypt: 'Cannot decrypt this video',
  e2eeUnsupported:
    'This meeting is end-to-end encrypted, and this browser cannot encrypt media end to end. Use a current Chrome, Edge, Firefox or Safari to join.',
};
