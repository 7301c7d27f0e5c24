// Byte counts of one blob transfer for progress displays, as the library's
// events carry them: at most one every PROGRESS_MS per blob, and always
// the last (bytes === size), so a display can finish its bar.
import { pipeline, type Readable, Transform } from "node:stream";

const PROGRESS_MS = 200;

export function throttledBytes(size: number, emit: (bytes: number) => void): (bytes: number) => void {
  let last = 0;
  return (bytes) => {
    const now = Date.now();
    if (bytes < size && now - last < PROGRESS_MS) return;
    last = now;
    emit(bytes);
  };
}

/**
 * The same bytes as `src`, reporting the running count (from `start`) as they
 * pass. Destroying the result (a store ingest refusing an overrun) destroys
 * `src` too, and an error of `src` reaches the result.
 */
export function countedReadable(src: Readable, onBytes: (bytes: number) => void, start = 0): Readable {
  let n = start;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      onBytes(n);
      cb(null, chunk);
    },
  });
  return pipeline(src, counter, () => {});
}
