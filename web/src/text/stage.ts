// The video stage: layouts, tiles, pinning, network quality. English; merged into `t` by strings.ts.
export const stageText = {
  stageLayoutLabel: 'Layout',
  stageGridView: 'Grid view',
  stageSpeakerView: 'Speaker view',
  stageSwitchedToGrid: 'Switched to grid view',
  stageSwitchedToSpeaker: 'Switched to speaker view',
  stagePagesLabel: 'Pages',
  stagePrevPage: 'Previous page',
  stageNextPage: 'Next page',
  stagePageOf: (page: number, pages: number) => `Page ${page} of ${pages}`,
  stageHandRaised: 'Hand raised',
  stageSpotlight: 'Spotlight',
  stageVideoPaused: 'Video paused: poor connection',
  pinTile: (label: string) => `Pin ${label}`,
  unpinTile: (label: string) => `Unpin ${label}`,
  pinnedAnnouncement: (label: string) => `${label} pinned`,
  unpinnedAnnouncement: (label: string) => `${label} unpinned`,
  qualityLabel: {
    good: 'Connection: good',
    fair: 'Connection: fair',
    poor: 'Connection: poor',
  },
} as const;
