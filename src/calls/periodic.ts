/**
 * A background pass run every `everyMs` (sweeper, reconciler, alert evaluator, retention): on an unref'd timer,
 * never overlapping itself (a tick while a pass runs is skipped), its failure logged by `onError` and retried
 * on the next tick; `stop` clears the timer and resolves once a pass in progress has finished, so the stores
 * can close under it.
 */
export interface Periodic {
  start(): void;
  stop(): Promise<void>;
}

export function periodic(pass: () => Promise<unknown>, everyMs: number, onError: (err: unknown) => void): Periodic {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  return {
    start() {
      timer = setInterval(() => {
        if (running) return;
        running = pass()
          .then(() => undefined, onError)
          .finally(() => (running = undefined));
      }, everyMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
