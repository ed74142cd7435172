export { attachLivecalls, type BridgeStats, type JobContextLike, type LivecallsBridge, type LivecallsOptions } from './attach.ts';
export { EventSender, type Logger, type SenderOptions, type SenderStats } from './sender.ts';
export { DEFAULT_TUNING, type SenderTuning } from './tuning.ts';
export { roomSigner } from './sign.ts';
export type * from './events.ts';
