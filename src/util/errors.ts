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

/**
 * Every code a KilnError can carry: a closed set, each documented in
 * docs/errors.md (test/structure/error-codes.test.ts checks both ways).
 * Programs match on these; the CLI maps them to exit codes in one place
 * (cli/exit-codes.ts). Adding a code means documenting it.
 */
export const KILN_ERROR_CODES = [
  "ADD_URL_FAILED",
  "ADD_URL_INVALID",
  "AMBIGUOUS_REFERENCE",
  "BAD_ARCHIVE",
  "BAD_BUILD_CONTEXT",
  "BAD_CONTEXT",
  "BAD_IMAGE",
  "BAD_LAYER",
  "BLOB_NOT_FOUND",
  "BLOB_SIZE_MISMATCH",
  "BLOB_UNKNOWN",
  "CACHE_INVALID",
  "CACHE_NOT_FOUND",
  "CHECKSUM_MISMATCH",
  "COMMAND_FAILED",
  "CONFIG_INVALID",
  "CONFIG_UNREADABLE",
  "CONFLICT",
  "COPY_DEST_NOT_DIR",
  "COPY_SOURCE_NOT_FOUND",
  "COPY_URL",
  "CREDENTIAL_HELPER_FAILED",
  "CREDENTIAL_HELPER_MISSING",
  "CROSS_REGISTRY",
  "DIGEST_MISMATCH",
  "DOCKERFILE_ARGS",
  "DOCKERFILE_DIRECTIVE",
  "DOCKERFILE_FLAG",
  "DOCKERFILE_HEREDOC",
  "DOCKERFILE_JSON",
  "DOCKERFILE_LINE_TOO_LONG",
  "DOCKERFILE_NO_FROM",
  "DOCKERFILE_PARSE",
  "DOCKERFILE_STAGE",
  "DOCKERFILE_UNKNOWN_INSTRUCTION",
  "DOCKERIGNORE_INVALID",
  "DOCKER_CONFIG_INVALID",
  "DOCKER_EXPORT_MULTI_PLATFORM",
  "DOCKER_MEDIA_TYPES",
  "DOCUMENT_TOO_LARGE",
  "DUPLICATE_PLATFORM",
  "EMULATOR_MISSING",
  "EXPANSION",
  "EXPORT_FAILED",
  "EXTRACT_DEST_NOT_EMPTY",
  "GIT_CONTEXT",
  "GROUP_UNKNOWN",
  "HOSTILE_LAYER",
  "IDMAP_FAILED",
  "IMAGE_FILE_INVALID",
  "IMAGE_NOT_FOUND",
  "IMPORT_FAILED",
  "INSECURE_NOT_ALLOWED",
  "INTERNAL",
  "INTERRUPTED",
  "INVALID_CHECKSUM",
  "INVALID_CHMOD",
  "INVALID_DIGEST",
  "INVALID_DOCUMENT",
  "INVALID_DURATION",
  "INVALID_MOUNT",
  "INVALID_OUTPUT",
  "INVALID_PLATFORM",
  "INVALID_PORT",
  "INVALID_REFERENCE",
  "INVALID_SOURCE_DATE_EPOCH",
  "INVALID_TAG",
  "INVALID_VOLUME",
  "LAYER_SOURCE_CHANGED",
  "LAYER_UNAVAILABLE",
  "LINT_FAILED",
  "LOAD_FAILED",
  "LOGIN_FAILED",
  "MANIFEST_INVALID",
  "MISSING_BLOB",
  "MOUNT_REFUSED",
  "MOUNT_SOURCE_NOT_FOUND",
  "NOT_AN_IMAGE",
  "NO_ATTESTATIONS",
  "NO_CONTEXT",
  "NO_DOCKERFILE",
  "NO_NEWUIDMAP",
  "NO_OVERLAY",
  "NO_RUNTIME",
  "NO_SLIRP4NETNS",
  "NO_STAGES",
  "NO_SUBIDS",
  "NO_SUCH_TARGET",
  "NO_UNSHARE",
  "ONBUILD_TRIGGER",
  "OVERLAY_BAD_PATH",
  "OVERLAY_FAILED",
  "OVERLAY_TOO_DEEP",
  "PLATFORM_MISMATCH",
  "PLATFORM_NOT_FOUND",
  "PULL_FAILED",
  "REFERRERS_TAG_INVALID",
  "REGISTRY_AUTH_INVALID",
  "REGISTRY_BLOB_UNKNOWN",
  "REGISTRY_BLOB_UPLOAD_INVALID",
  "REGISTRY_BLOB_UPLOAD_UNKNOWN",
  "REGISTRY_CONNECTION_LOST",
  "REGISTRY_DENIED",
  "REGISTRY_DIGEST_INVALID",
  "REGISTRY_HTTP_ERROR",
  "REGISTRY_MANIFEST_BLOB_UNKNOWN",
  "REGISTRY_MANIFEST_INVALID",
  "REGISTRY_MANIFEST_UNKNOWN",
  "REGISTRY_NAME_INVALID",
  "REGISTRY_NAME_UNKNOWN",
  "REGISTRY_NOT_FOUND",
  "REGISTRY_PROTOCOL",
  "REGISTRY_SIZE_INVALID",
  "REGISTRY_TIMEOUT",
  "REGISTRY_TLS",
  "REGISTRY_TOOMANYREQUESTS",
  "REGISTRY_UNAUTHORIZED",
  "REGISTRY_UNREACHABLE",
  "REGISTRY_UNSUPPORTED",
  "ROOTLESS_NO_CGROUPS",
  "RUNTIME_FAILED",
  "RUN_FAILED",
  "RUN_NO_EXECUTABLE",
  "SECRET_NOT_FOUND",
  "SHORT_READ",
  "SNAPSHOT_CHANGED",
  "SSH_AGENT",
  "SSH_NOT_FOUND",
  "STAGE_CYCLE",
  "STAGE_ORDER",
  "STAGE_REF",
  "STORE_CORRUPT",
  "STORE_LOCKED",
  "SYMLINK_LOOP",
  "TLS_CA_UNREADABLE",
  "UNREPRESENTABLE_LAYER",
  "UNSUPPORTED",
  "UNSUPPORTED_MEDIA_TYPE",
  "USAGE",
  "USERNS_REFUSED",
  "USER_UNKNOWN",
  "XATTR_FAILED",
] as const;

export type KilnErrorCode = (typeof KILN_ERROR_CODES)[number];

const CODE_SET: ReadonlySet<string> = new Set(KILN_ERROR_CODES);

/** True when `code` is one of kiln's error codes (for codes read back from elsewhere). */
export function isKilnErrorCode(code: unknown): code is KilnErrorCode {
  return typeof code === "string" && CODE_SET.has(code);
}

export class KilnError extends Error {
  readonly code: KilnErrorCode;
  readonly location?: SourceLocation;
  readonly hint?: string;

  constructor(code: KilnErrorCode, message: string, opts: { location?: SourceLocation; hint?: string; cause?: unknown } = {}) {
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
