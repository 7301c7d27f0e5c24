// Build args that need no ARG line. Docker's predefined proxy ARGs reach
// RUN's environment only: never the image config, the history, or a cache
// key (a proxy is the runner's business, not the image's). BuildKit's
// BUILDKIT_SANDBOX_HOSTNAME names RUN's host.
export const PROXY_ARGS: ReadonlySet<string> = new Set([
  "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
]);

/** BuildKit's build arg naming RUN's hostname (a frontend option: no ARG line needed). */
export const SANDBOX_HOSTNAME_ARG = "BUILDKIT_SANDBOX_HOSTNAME";

/**
 * "K=V" entries for the proxy build args given, marking them used. Either
 * spelling sets both (`http_proxy=X` gives HTTP_PROXY=X and http_proxy=X),
 * as BuildKit's proxy env does; when both spellings are given the
 * lowercase one wins (BuildKit reads the args in sorted order).
 */
export function proxyEnv(buildArgs: ReadonlyMap<string, string>, used: Set<string>): string[] {
  const byName = new Map<string, string>();
  for (const k of [...buildArgs.keys()].sort()) {
    if (!PROXY_ARGS.has(k)) continue;
    used.add(k);
    byName.set(k.toLowerCase(), buildArgs.get(k)!);
  }
  return [...byName].flatMap(([lower, v]) => [`${lower.toUpperCase()}=${v}`, `${lower}=${v}`]);
}
