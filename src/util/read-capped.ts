// Reading a document whole, but never more than a bound: the stream is
// stopped (destroyed) as soon as it passes `limit`, so a hostile source
// sending a huge body costs at most `limit` bytes of memory.
import { KilnError } from "./errors.js";

export interface CappedSource {
  /** For the error: "manifest team/app:1 from 127.0.0.1:5000". */
  readonly what: string;
  readonly limit: number;
  /** The source's announced length (Content-Length, a tar header), checked before reading. */
  readonly announced?: number;
}

export function tooLarge(src: CappedSource): KilnError {
  const mib = (src.limit / 1024 / 1024).toFixed(src.limit % (1024 * 1024) === 0 ? 0 : 2);
  return new KilnError("DOCUMENT_TOO_LARGE", `${src.what} is larger than ${mib} MiB, the most kiln reads for such a document`, {
    hint: "no registry or builder makes documents that big; check where it comes from",
  });
}

/** Collect `body` into one buffer, or throw DOCUMENT_TOO_LARGE past the limit. */
export async function readCapped(body: AsyncIterable<Buffer | string> & { destroy?: (e?: Error) => void }, src: CappedSource): Promise<Buffer> {
  if (src.announced !== undefined && Number.isFinite(src.announced) && src.announced > src.limit) {
    body.destroy?.();
    throw tooLarge(src);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    const b = typeof c === "string" ? Buffer.from(c) : c;
    size += b.length;
    if (size > src.limit) {
      body.destroy?.();
      throw tooLarge(src);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** A descriptor's announced size against the bound for what it points at
 * (checked before fetching or reading the document). */
export function requireDocumentSize(d: { readonly size: number }, limit: number, what: string): void {
  if (d.size > limit) throw tooLarge({ what: `${what} (${d.size} bytes)`, limit });
}
