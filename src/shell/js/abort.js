// Waiting that gives up when the caller cancels: `session.fetch` and the axios adapter both stop
// waiting for a token the moment the request's AbortSignal fires, as `fetch` and axios do.

/**
 * `wait()`, or a rejection with `reason()` as soon as `signal` aborts. An already aborted signal
 * asks for nothing (`wait` is not called); without a signal this is `wait()`. What `wait`
 * started goes on and settles unheard (a session waiter stays queued until its token comes).
 */
export function untilAborted(wait, signal, reason) {
  if (typeof signal?.addEventListener !== 'function') return wait();
  if (signal.aborted) return Promise.reject(reason());
  const promise = wait();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
