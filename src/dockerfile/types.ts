// The typed form of a Dockerfile. Values that BuildKit expands at build
// time (image names, ENV/ARG/LABEL values, paths, users) are kept as the
// raw words from the file; the planner runs them through expand.ts with
// the variables in scope at that point.

/** Where an instruction came from; compatible with SourceLocation in util/errors. */
export interface Location {
  file: string;
  /** 1-based line of the instruction's first line. */
  line: number;
  /** The first physical line of the instruction. */
  text: string;
  /** Its further physical lines, when it is continued over several. */
  more?: string[];
}

export interface Directives {
  escape: "\\" | "`";
  syntax?: string;
  check?: string;
}

export interface Dockerfile {
  file: string;
  directives: Directives;
  /** ARGs before the first FROM: they are in scope only for FROM lines. */
  metaArgs: ArgInstruction[];
  stages: Stage[];
}

export interface Stage {
  index: number;
  /** Lower-cased `AS` name, when there is one. */
  name?: string;
  from: FromInstruction;
  instructions: Instruction[];
}

interface Base {
  location: Location;
  /**
   * The instruction as one logical line: keyword, flags and arguments,
   * continuations joined and comment lines inside them dropped (BuildKit's
   * `Original`, which history `created_by` is made from).
   */
  original: string;
}

/** A `<<NAME` here-document attached to RUN, COPY or ADD. */
export interface Heredoc {
  name: string;
  /** Body including each line's "\n", with leading tabs removed for `<<-`. */
  content: string;
  /** False when any part of the name was quoted: the body is then taken literally. */
  expand: boolean;
  /** `<<-`: leading tabs were stripped from the body. */
  chomp: boolean;
  /** `3<<EOF` redirects file descriptor 3. */
  fileDescriptor?: number;
}

/** Shell form keeps the raw command text (the shell expands it); exec form is a JSON array. */
export type CommandForm = { form: "shell"; command: string } | { form: "exec"; args: string[] };

export interface KeyValue {
  /** Raw word; expand before use. */
  key: string;
  /** Raw word with quotes and escapes still in place; expand before use. */
  value: string;
}

export interface FromInstruction extends Base {
  kind: "from";
  image: string;
  platform?: string;
  stageName?: string;
}

/** RUN --network: "default" is the build's own network setting. */
export type RunNetwork = "default" | "none" | "host";
export type RunSecurity = "sandbox" | "insecure";

/** A --mount key, aliases folded (src: source; dst, destination: target; ro: readonly; rw: readwrite). */
export type MountKey = "type" | "from" | "source" | "target" | "readonly" | "readwrite" | "id" | "sharing" | "required" | "mode" | "uid" | "gid" | "size" | "env";

export interface MountField {
  readonly key: MountKey;
  /** Raw word, expanded per step ("true" for a bare switch like `ro`). */
  readonly value: string;
  /** Written without `=value`. */
  readonly bare: boolean;
}

/**
 * One RUN --mount as parsed: keys checked and normalised (case-insensitive,
 * as BuildKit), values kept as raw words because they expand with the
 * step's ARG/ENV (run-flags.ts resolves them). `from` never expands.
 */
export interface MountFlag {
  /** The flag value as written, for messages. */
  readonly text: string;
  /** In the order written: a later ro/rw wins. */
  readonly fields: readonly MountField[];
  /** The stage, image or named context it reads from (literal). */
  readonly from?: string;
}

export interface RunFlags {
  readonly mounts: readonly MountFlag[];
  readonly network?: RunNetwork;
  readonly security?: RunSecurity;
}

export type RunInstruction = Base &
  CommandForm & {
    kind: "run";
    flags: RunFlags;
    heredocs?: Heredoc[];
  };

interface FileCopyBase extends Base {
  sources: string[];
  dest: string;
  chown?: string;
  chmod?: string;
  link?: boolean;
  exclude?: string[];
  parents?: boolean;
  /** Sources given as here-documents (`COPY <<EOF /dest`). */
  heredocs?: Heredoc[];
}

export interface CopyInstruction extends FileCopyBase {
  kind: "copy";
  from?: string;
}

export interface AddInstruction extends FileCopyBase {
  kind: "add";
  checksum?: string;
  keepGitDir?: boolean;
  /** --unpack: false never unpacks a local archive; true also unpacks a downloaded one. */
  unpack?: boolean;
}

export interface EnvInstruction extends Base {
  kind: "env";
  pairs: KeyValue[];
}

export interface ArgDeclaration {
  name: string;
  /** Raw default value, when given (`ARG X=` gives ""). */
  default?: string;
}

export interface ArgInstruction extends Base {
  kind: "arg";
  args: ArgDeclaration[];
}

export interface WorkdirInstruction extends Base {
  kind: "workdir";
  path: string;
}

export interface UserInstruction extends Base {
  kind: "user";
  user: string;
}

export interface LabelInstruction extends Base {
  kind: "label";
  pairs: KeyValue[];
}

export interface ExposeInstruction extends Base {
  kind: "expose";
  ports: string[];
}

export interface VolumeInstruction extends Base {
  kind: "volume";
  paths: string[];
}

export type EntrypointInstruction = Base & CommandForm & { kind: "entrypoint" };
export type CmdInstruction = Base & CommandForm & { kind: "cmd" };

export interface ShellInstruction extends Base {
  kind: "shell";
  shell: string[];
}

export interface StopsignalInstruction extends Base {
  kind: "stopsignal";
  signal: string;
}

export interface HealthcheckInstruction extends Base {
  kind: "healthcheck";
  /** `HEALTHCHECK NONE` disables an inherited check. */
  test: "none" | CommandForm;
  /** Durations as written (Go duration syntax, e.g. "30s", "1m30s"). */
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: number;
}

export interface OnbuildInstruction extends Base {
  kind: "onbuild";
  /** The trigger text as stored in the image config's OnBuild list. */
  expression: string;
  trigger: Instruction;
}

export interface MaintainerInstruction extends Base {
  kind: "maintainer";
  maintainer: string;
}

export type Instruction =
  | RunInstruction
  | CopyInstruction
  | AddInstruction
  | EnvInstruction
  | ArgInstruction
  | WorkdirInstruction
  | UserInstruction
  | LabelInstruction
  | ExposeInstruction
  | VolumeInstruction
  | EntrypointInstruction
  | CmdInstruction
  | ShellInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | OnbuildInstruction
  | MaintainerInstruction;

export type InstructionKind = Instruction["kind"] | "from";
