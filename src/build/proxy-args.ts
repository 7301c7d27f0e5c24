// Docker's predefined proxy ARGs: usable with --build-arg without an ARG
// line, they reach RUN's environment only: never the image config, the
// history, or a cache key (a proxy is the runner's business, not the image's).
export const PROXY_ARGS: ReadonlySet<string> = new Set([
  "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
]);

/** "K=V" entries for the proxy build args given, marking them used. */
export function proxyEnv(buildArgs: ReadonlyMap<string, string>, used: Set<string>): string[] {
  const out: string[] = [];
  for (const [k, v] of buildArgs) {
    if (!PROXY_ARGS.has(k)) continue;
    used.add(k);
    out.push(`${k}=${v}`);
  }
  return out;
}
