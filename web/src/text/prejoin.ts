// Pre-join: camera preview, microphone level, device choice. English; merged into `t` by strings.ts.
export const prejoinText = {
} as const;
