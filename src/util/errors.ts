// Every error kiln reports to a user is a KilnError: a stable code for
// programs, a message for people, and, where there is one, the Dockerfile
// location and a hint saying what to do.

export interface SourceLocation {
  readonly file: string;
  /** 1-based line of the instruction's first line. */
  readonly line: number;
  /** The source text of the offending line, shown under the message. */
  readonly text?: string;
  /** The instruction's further physical lines (continuations), shown after `text`. */
  readonly more?: readonly string[];
}

export class KilnError extends Error {
  readonly code: string;
  readonly location?: SourceLocation;
  readonly hint?: string;

  constructor(code: string, message: string, opts: { location?: SourceLocation; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = "KilnError";
    this.code = code;
    if (opts.location) this.location = opts.location;
    if (opts.hint) this.hint = opts.hint;
  }

  /** One line for the terminal: "Dockerfile:3: message (hint)". */
  format(): string {
    const where = this.location ? `${this.location.file}:${this.location.line}: ` : "";
    const hint = this.hint ? ` — ${this.hint}` : "";
    return `${where}${this.message}${hint}`;
  }
}
