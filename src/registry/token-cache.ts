// Bearer tokens per (service, scope set), reused until shortly before they
// expire. A token for "repository:a:pull" is not reused for
// "repository:a:pull,push": the key is the exact scope set, so asking for
// push upgrades the token instead of failing with the weaker one.
interface Entry {
  readonly token: string;
  readonly expiresAt: number;
}

export class TokenCache {
  readonly #entries = new Map<string, Entry>();

  static key(service: string, scopes: readonly string[]): string {
    return `${service}\n${[...new Set(scopes)].sort().join(" ")}`;
  }

  get(key: string): string | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (Date.now() >= e.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.token;
  }

  /** `expiresIn` seconds (spec default 60); renewed 10 s early. */
  set(key: string, token: string, expiresIn = 60): void {
    this.#entries.set(key, { token, expiresAt: Date.now() + Math.max(1, expiresIn - 10) * 1000 });
  }

  clear(key: string): void {
    this.#entries.delete(key);
  }
}
