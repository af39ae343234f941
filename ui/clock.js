// The window's clock: one timer, set for the next moment something shown
// changes by itself (a countdown's next second, a pause running out),
// instead of waking every second to find out. (A teammate's words about
// time, "for 5 min" becoming "for 6 min" or "22:10 there" becoming "22:11
// there", are the engine's: time-words-changed.)
// main.js says what to redraw and when that next moment is; whatever changes
// that moment (an event, a render) calls `clock.changed()`.

// Woken at least this often: a timer waits in monotonic time, so after the
// computer has slept, or its clock was set, a label would otherwise wait for
// its old moment.
export const LONGEST_WAIT_MS = 60000;

/**
 * `tick(now)` redraws what time has changed; `nextAt(now)` is the time (ms)
 * of the next change of anything shown, Infinity for none. `timers` are
 * setTimeout/clearTimeout (the page's by default).
 */
export function createClock(timers = globalThis) {
  let tick = null;
  let nextAt = null;
  let timer = null;
  let due = null;

  function fire() {
    timer = null;
    due = null;
    tick(Date.now());
    schedule();
  }

  function schedule() {
    if (!tick) return;
    const now = Date.now();
    const at = Math.min(nextAt(now), now + LONGEST_WAIT_MS);
    if (timer !== null && at === due) return;
    if (timer !== null) timers.clearTimeout(timer);
    due = at;
    timer = timers.setTimeout(fire, Math.max(0, at - now));
  }

  return {
    start(onTick, whenNext) {
      tick = onTick;
      nextAt = whenNext;
      schedule();
    },
    /** Something shown changed: the next wake may be sooner (or later). */
    changed: schedule,
  };
}

/** The window's one clock. */
export const clock = createClock();
