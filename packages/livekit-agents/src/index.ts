export { attachLivecalls, type BridgeStats, type JobContextLike, type LivecallsBridge, type LivecallsOptions } from './attach.ts';
export { EventSender, DEFAULT_TUNING, type Logger, type SenderOptions, type SenderStats, type SenderTuning } from './sender.ts';
export { roomSigner } from './sign.ts';
export type * from './events.ts';
