// A pool for outgoing connections within one consumer invocation: at most `size` tasks run at
// once, the rest wait in order. Workers allow 6 simultaneous outgoing connections per invocation
// (more wait inside the runtime, where a timeout would count the waiting too).

/** Runs at most `size` tasks at once. */
export function limiter(size: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
