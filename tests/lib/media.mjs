// What a page receives, read from its own RTCPeerConnections, for browser tests in either
// browser (playwright-core for Chromium, puppeteer-core for Firefox: both pages have
// evaluate()). keepPeerConnections is an init script (test code, not the client's) that
// keeps a list of every connection a page makes; collectInbound runs in the page.
import { sleep } from './server.mjs';

export function keepPeerConnections() {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__pcs.push(this);
    }
  };
}

// In the page: per remote track its frames/width or samples/packets, and each
// connection's selected candidate pair (Chromium marks it `nominated`, Firefox
// `selected`), with whether that connection receives media.
export function collectInbound() {
  return (async () => {
    const out = { video: [], audio: [], pairs: [], states: [] };
    for (const pc of window.__pcs) {
      out.states.push(`${pc.connectionState}/${pc.iceConnectionState}`);
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      const receives = [...stats.values()].some((s) => s.type === 'inbound-rtp');
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          out.video.push({ mid: s.mid ?? s.id, frames: s.framesDecoded ?? 0, width: s.frameWidth ?? 0, bytes: s.bytesReceived ?? 0 });
        }
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          out.audio.push({ mid: s.mid ?? s.id, samples: s.totalSamplesReceived ?? null, packets: s.packetsReceived ?? 0, bytes: s.bytesReceived ?? 0 });
        }
        if (s.type === 'candidate-pair' && s.state === 'succeeded' && (s.nominated || s.selected)) {
          const local = stats.get(s.localCandidateId);
          const remote = stats.get(s.remoteCandidateId);
          out.pairs.push({
            receiving: receives,
            port: local?.port,
            local: `${local?.address ?? local?.ip}:${local?.port}`,
            remote: `${remote?.address ?? remote?.ip}:${remote?.port}`,
          });
        }
      });
    }
    return out;
  })();
}

export const inbound = (page) => page.evaluate(collectInbound);

/** Polls fn() until it returns { ok: true, ... }; throws with the last value seen. */
export async function until(what, fn, timeoutMs = 30000, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last.ok) return last;
    await sleep(intervalMs);
  }
  throw new Error(`${what}: not reached in ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
}

// Remote videos decoding now (frames rising over `windowMs`) and remote audio arriving
// (samples rising where the browser counts them, else packets and bytes rising).
export async function receiving(page, windowMs = 1000) {
  const a = await inbound(page);
  await sleep(windowMs);
  const b = await inbound(page);
  const videos = b.video.filter((v) => {
    const before = a.video.find((x) => x.mid === v.mid);
    return before && v.frames > before.frames;
  });
  const audios = b.audio.filter((v) => {
    const before = a.audio.find((x) => x.mid === v.mid);
    if (!before) return false;
    if (v.samples !== null && before.samples !== null) return v.samples > before.samples;
    return v.packets > before.packets && v.bytes > before.bytes;
  });
  return {
    videos: videos.length,
    audios: audios.length,
    widths: videos.map((v) => v.width),
    audio: b.audio,
    pairs: b.pairs,
    states: b.states,
  };
}
