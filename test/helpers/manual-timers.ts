/** Timers that only move when the test says so (for the LLM insights' debounce, timeout, rate and backoff). */
import type { Timers } from '../../src/analysis/llm/throttle.ts';

interface Task {
  id: number;
  at: number;
  fn: () => void;
}

export class ManualTimers implements Timers {
  private t = 1_000_000;
  private seq = 0;
  private tasks: Task[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const task = { id: ++this.seq, at: this.t + Math.max(0, ms), fn };
    this.tasks.push(task);
    return task.id;
  }

  clearTimeout(handle: unknown): void {
    this.tasks = this.tasks.filter((task) => task.id !== handle);
  }

  /** Timers pending (not yet fired). */
  pending(): number {
    return this.tasks.length;
  }

  /** Moves time forward by `ms`, firing what falls due in order (and what those schedule within the span). */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      const due = this.tasks.filter((task) => task.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.tasks = this.tasks.filter((task) => task !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = target;
  }
}
