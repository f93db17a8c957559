import { expect, test } from 'vitest';
import { missingFeatures } from './support';

function PC() {}
PC.prototype.addTransceiver = () => {};
function Sender() {}
Sender.prototype.replaceTrack = () => {};
function WS() {}

const modern = { RTCPeerConnection: PC, RTCRtpSender: Sender, WebSocket: WS, isSecureContext: true };

test('a modern browser in a secure context lacks nothing', () => {
  expect(missingFeatures(modern)).toEqual([]);
});

test('no WebRTC at all', () => {
  expect(missingFeatures({ ...modern, RTCPeerConnection: undefined, RTCRtpSender: undefined })).toEqual(['webrtc']);
});

test('an engine without transceivers', () => {
  function OldPC() {}
  expect(missingFeatures({ ...modern, RTCPeerConnection: OldPC })).toEqual(['transceivers']);
});

test('plain http on another machine', () => {
  expect(missingFeatures({ ...modern, isSecureContext: false })).toEqual(['secure_context']);
});

test('the real node environment has no WebRTC', () => {
  expect(missingFeatures()).toContain('webrtc');
});
