// Who is in the meeting, kept up to date from the server's events. Pure functions over
// immutable values, so that the session can hand the same object to the UI until
// something changes and tests can replay events without a browser.
import type { Participant, ServerEvents, Track } from './protocol';

export interface Roster {
  /** The others, by id, in the order they joined (Map keeps insertion order). */
  readonly participants: ReadonlyMap<string, Participant>;
  /** Ids of the people speaking now; may include our own id. */
  readonly speaking: ReadonlySet<string>;
  /** The dominant speaker, or null. */
  readonly dominant: string | null;
}

export const emptyRoster: Roster = { participants: new Map(), speaking: new Set(), dominant: null };

/** The roster a join result describes (`roster` lists the others). */
export function rosterFromJoin(others: Participant[], selfId: string): Roster {
  const participants = new Map<string, Participant>();
  const speaking = new Set<string>();
  for (const p of others) {
    if (p.id === selfId) continue;
    participants.set(p.id, { ...p, tracks: [...p.tracks] });
    if (p.speaking) speaking.add(p.id);
  }
  return { participants, speaking, dominant: null };
}

type RosterEvent = {
  [K in keyof ServerEvents]: { event: K } & ServerEvents[K];
}[
  | 'participant_joined'
  | 'participant_left'
  | 'track_published'
  | 'track_unpublished'
  | 'track_muted'
  | 'speaking'
  | 'role_changed'
  | 'participant_renamed'
];

function withParticipant(r: Roster, id: string, f: (p: Participant) => Participant): Roster {
  const p = r.participants.get(id);
  if (!p) return r;
  const next = f(p);
  if (next === p) return r;
  const participants = new Map(r.participants);
  participants.set(id, next);
  return { ...r, participants };
}

/** Applies one event; returns `r` itself when nothing changed. Events about unknown
 *  participants or tracks are ignored (they can race a participant_left). */
export function applyRosterEvent(r: Roster, e: RosterEvent, selfId: string | null): Roster {
  switch (e.event) {
    case 'participant_joined': {
      const p = e.participant;
      if (p.id === selfId) return r;
      const participants = new Map(r.participants);
      participants.set(p.id, { ...p, tracks: [...p.tracks] });
      return { ...r, participants };
    }
    case 'participant_left': {
      if (!r.participants.has(e.participant)) return r;
      const participants = new Map(r.participants);
      participants.delete(e.participant);
      let { speaking, dominant } = r;
      if (speaking.has(e.participant)) {
        const s = new Set(speaking);
        s.delete(e.participant);
        speaking = s;
      }
      if (dominant === e.participant) dominant = null;
      return { participants, speaking, dominant };
    }
    case 'track_published': {
      const t = e.track;
      return withParticipant(r, t.participant, (p) => ({
        ...p,
        tracks: [...p.tracks.filter((x) => x.id !== t.id), { ...t }],
      }));
    }
    case 'track_unpublished':
      return withParticipant(r, e.participant, (p) =>
        p.tracks.some((t) => t.id === e.track)
          ? { ...p, tracks: p.tracks.filter((t) => t.id !== e.track) }
          : p,
      );
    case 'track_muted':
      return withParticipant(r, e.participant, (p) =>
        p.tracks.some((t) => t.id === e.track && t.muted !== e.muted)
          ? { ...p, tracks: p.tracks.map((t) => (t.id === e.track ? { ...t, muted: e.muted } : t)) }
          : p,
      );
    case 'role_changed':
      return withParticipant(r, e.participant, (p) => (p.role === e.role ? p : { ...p, role: e.role }));
    case 'participant_renamed':
      return withParticipant(r, e.participant, (p) => (p.name === e.name ? p : { ...p, name: e.name }));
    case 'speaking': {
      const speaking = new Set(e.speaking);
      let participants = r.participants;
      // Keep Participant.speaking in line with the set, for whoever reads either.
      for (const [id, p] of r.participants) {
        if (p.speaking !== speaking.has(id)) {
          if (participants === r.participants) participants = new Map(r.participants);
          (participants as Map<string, Participant>).set(id, { ...p, speaking: speaking.has(id) });
        }
      }
      return { participants, speaking, dominant: e.dominant ?? null };
    }
  }
}

/** Every remote track of the roster, by id. */
export function remoteTrackIndex(r: Roster): Map<string, Track> {
  const m = new Map<string, Track>();
  for (const p of r.participants.values()) for (const t of p.tracks) m.set(t.id, t);
  return m;
}
