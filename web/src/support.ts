// What this browser lacks for a meeting, checked before the meeting page loads, so that a
// person with an old or locked-down browser reads why rather than looks at a blank page.
// Pure over a `globalThis`-like object, so it can be tested without a browser.

/** Why the meeting cannot run here, most fundamental first (an empty list: it can). */
export type Missing =
  | 'webrtc' // no RTCPeerConnection (very old browser, or WebRTC switched off by policy)
  | 'websocket'
  | 'transceivers' // RTCPeerConnection without addTransceiver/replaceTrack (pre-2020 engines)
  | 'secure_context'; // camera and microphone exist only on https (or localhost)

interface Env {
  RTCPeerConnection?: unknown;
  RTCRtpSender?: unknown;
  WebSocket?: unknown;
  isSecureContext?: boolean;
}

export function missingFeatures(g: Env = globalThis as Env): Missing[] {
  const out: Missing[] = [];
  type Ctor = { prototype?: Record<string, unknown> } | undefined;
  const pc = g.RTCPeerConnection as Ctor;
  if (typeof g.RTCPeerConnection !== 'function') out.push('webrtc');
  else {
    const sender = g.RTCRtpSender as Ctor;
    if (typeof pc?.prototype?.addTransceiver !== 'function' || typeof sender?.prototype?.replaceTrack !== 'function') {
      out.push('transceivers');
    }
  }
  if (typeof g.WebSocket !== 'function') out.push('websocket');
  if (g.isSecureContext === false) out.push('secure_context');
  return out;
}
