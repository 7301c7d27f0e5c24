import { describe, expect, it } from "vitest";
import { expandWord, expandWords, expandWordWithMatches, lookupFrom } from "../../src/dockerfile/index.js";
import { KilnError } from "../../src/util/errors.js";

const vars = lookupFrom({ HOME: "/root", EMPTY: "", SPACED: " a  b ", FILE: "archive.tar.gz" });

describe("expandWord", () => {
  it("expands the BuildKit forms", () => {
    expect(expandWord("$HOME/x", vars)).toBe("/root/x");
    expect(expandWord("${NOPE:-dflt}", vars)).toBe("dflt");
    expect(expandWord("${EMPTY-dflt}", vars)).toBe("");
    expect(expandWord("${HOME:+set}", vars)).toBe("set");
    expect(expandWord("${FILE%.gz}", vars)).toBe("archive.tar");
    expect(expandWord("${FILE%%.*}", vars)).toBe("archive");
    expect(expandWord("${FILE#*.}", vars)).toBe("tar.gz");
    expect(expandWord("${FILE/tar/zip}", vars)).toBe("archive.zip.gz");
    expect(expandWord("'$HOME' \"$HOME\"", vars)).toBe("$HOME /root");
  });

  it("supports ${#NAME} as the length of the value", () => {
    expect(expandWord("${#FILE}", vars)).toBe("14");
    expect(expandWord("${#NOPE}", vars)).toBe("0");
    expect(expandWord("${#}", vars)).toBe("");
  });

  it("uses the escape directive's token", () => {
    expect(expandWord("C:\\dir\\`$HOME", vars, { escape: "`" })).toBe("C:\\dir\\$HOME");
    expect(expandWord('"a`"b"', vars, { escape: "`" })).toBe('a"b');
  });

  it("reports errors as KilnError EXPANSION", () => {
    try {
      expandWord("${NOPE:?must be set}", vars);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KilnError);
      expect((e as KilnError).code).toBe("EXPANSION");
      expect((e as KilnError).message).toBe("NOPE: must be set");
    }
    expect(() => expandWord("'open", vars)).toThrow(KilnError);
    expect(() => expandWord("${HOME:=x}", vars)).toThrow(KilnError);
  });

  it("reports which variables were looked up", () => {
    const r = expandWordWithMatches("$HOME ${NOPE:-x} ${EMPTY}", vars);
    expect(r.value).toBe("/root x ");
    expect([...r.matched].sort()).toEqual(["EMPTY", "HOME"]);
    expect([...r.unmatched]).toEqual(["NOPE"]);
  });
});

describe("expandWords", () => {
  it("splits on unquoted whitespace, including whitespace from values", () => {
    expect(expandWords("80/tcp  $SPACED '1 2'", vars)).toEqual(["80/tcp", "a", "b", "1 2"]);
    expect(expandWords('x"$SPACED"y', vars)).toEqual(["x a  b y"]);
    expect(expandWords('"" a', vars)).toEqual(["a"]);
  });

  it("does not copy BuildKit's loss of text before a modifier expansion", () => {
    expect(expandWords("hello${x:-foo}", vars)).toEqual(["hellofoo"]);
    expect(expandWords("a${hi}b${x:-c d}e", vars)).toEqual(["abc", "de"]);
  });
});
