// Chat, raised hands and reactions. English; merged into `t` by strings.ts.
export const socialText = {
} as const;
