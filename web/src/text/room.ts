// The meeting room around the stage: controls, panels, security, shortcuts, help. English; merged into `t` by strings.ts.
export const roomText = {
} as const;
