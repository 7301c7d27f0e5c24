// Reads a registry directly (no proxy) and lists every manifest, reachable
// from a tag, that points at a blob or child manifest the registry lacks.
import { Agent, request } from "undici";

const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

interface Doc {
  config?: { digest: string };
  layers?: { digest: string }[];
  manifests?: { digest: string }[];
}

export async function danglingReferences(host: string): Promise<{ checked: number; problems: string[] }> {
  const agent = new Agent();
  const base = `http://${host}`;
  const json = async <T>(path: string): Promise<{ status: number; body: T | undefined }> => {
    const r = await request(`${base}${path}`, { dispatcher: agent, headers: { accept: ACCEPT } });
    const text = await r.body.text();
    return { status: r.statusCode, body: r.statusCode === 200 ? (JSON.parse(text) as T) : undefined };
  };
  const head = async (path: string): Promise<number> => {
    const r = await request(`${base}${path}`, { dispatcher: agent, method: "HEAD", headers: { accept: ACCEPT } });
    await r.body.dump();
    return r.statusCode;
  };
  const problems: string[] = [];
  let checked = 0;
  const visit = async (repo: string, ref: string): Promise<void> => {
    const m = await json<Doc>(`/v2/${repo}/manifests/${ref}`);
    if (!m.body) {
      problems.push(`${repo}:${ref}: manifest answers ${m.status}`);
      return;
    }
    checked++;
    for (const b of [m.body.config, ...(m.body.layers ?? [])]) {
      if (b && (await head(`/v2/${repo}/blobs/${b.digest}`)) !== 200) problems.push(`${repo}:${ref} -> missing blob ${b.digest}`);
    }
    for (const c of m.body.manifests ?? []) await visit(repo, c.digest);
  };
  try {
    const cat = await json<{ repositories: string[] }>("/v2/_catalog?n=1000");
    for (const repo of cat.body?.repositories ?? []) {
      const tags = await json<{ tags: string[] | null }>(`/v2/${repo}/tags/list`);
      for (const t of tags.body?.tags ?? []) await visit(repo, t);
    }
  } finally {
    await agent.close();
  }
  return { checked, problems };
}
