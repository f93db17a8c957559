// The video stage: layouts, tiles, pinning, network quality. English; merged into `t` by strings.ts.
export const stageText = {
} as const;
