// The Go text/template subset behind --format, checked against what Go
// itself prints for the same templates.
import { describe, expect, it } from "vitest";
import { renderTemplate } from "../../src/cli/go-template.js";

const data = {
  Id: "sha256:abc",
  Config: { Env: ["A=1", "B=2"], Labels: { "org.x": "y", team: "blue" }, Cmd: null, Entrypoint: ["/bin/sh", "-c"] },
  RepoTags: ["a:1", "b:2"],
  Size: 42,
  Empty: [],
};

describe("go-template", () => {
  it.each([
    ["{{.Id}}", "sha256:abc"],
    ["id={{ .Id }}!", "id=sha256:abc!"],
    ["{{.Config.Env}}", "[A=1 B=2]"],
    ["{{json .Config.Env}}", '["A=1","B=2"]'],
    ["{{json .Config.Cmd}}", "null"],
    ["{{.Config.Labels}}", "map[org.x:y team:blue]"],
    ['{{index .Config.Labels "org.x"}}', "y"],
    ["{{index .RepoTags 1}}", "b:2"],
    ["{{range .RepoTags}}[{{.}}]{{end}}", "[a:1][b:2]"],
    ["{{range .Empty}}x{{else}}none{{end}}", "none"],
    ["{{range .Config.Labels}}{{.}},{{end}}", "y,blue,"],
    ["{{if .Config.Cmd}}cmd{{else}}no cmd{{end}}", "no cmd"],
    ["{{if .Config.Entrypoint}}{{join .Config.Entrypoint \" \"}}{{end}}", "/bin/sh -c"],
    ["{{with .Config}}{{.Env}}{{end}}", "[A=1 B=2]"],
    ["{{.Missing}}", "<no value>"],
    ["{{.Config.Env | json}}", '["A=1","B=2"]'],
    ["{{len .RepoTags}} {{upper .Id}}", "2 SHA256:ABC"],
    ["{{.}}", "map[Config:map[Cmd:<nil> Entrypoint:[/bin/sh -c] Env:[A=1 B=2] Labels:map[org.x:y team:blue]] Empty:[] Id:sha256:abc RepoTags:[a:1 b:2] Size:42]"],
    ["a {{- .Size -}} b", "a42b"],
    ['{{printf "%s=%d" .Id .Size}}', "sha256:abc=42"],
    ['{{json (index .Config.Labels "team")}}', '"blue"'],
  ])("%s", (tpl, want) => {
    expect(renderTemplate(tpl, data)).toBe(want);
  });

  it.each(["{{.Id", "{{range .RepoTags}}", "{{end}}", "{{nosuch .Id}}", "{{}}"])("rejects %s as a usage error", (tpl) => {
    expect(() => renderTemplate(tpl, data)).toThrow(expect.objectContaining({ code: "USAGE" }));
  });
});
