// Byte counts of one blob transfer for progress displays, as the library's
// events carry them: at most one every PROGRESS_MS per blob, and always
// the last (bytes === size), so a display can finish its bar.
import { Transform } from "node:stream";

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

/** A pass-through that reports the running byte count of what flows through it. */
export function countingStream(onBytes: (bytes: number) => void, start = 0): Transform {
  let n = start;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      onBytes(n);
      cb(null, chunk);
    },
  });
}
