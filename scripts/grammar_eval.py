#!/usr/bin/env python3
"""Constrained generation with SmolLM2: the suite and the independent checker.

--write-suite FILE: the regexes and JSON schemas of scripts/make_grammar_fixtures.py, each with a prompt.
--check OUTPUTS:    validates every generated text of `sglang eval-grammar` (JSON lines: requests run
                    through Runtime.Engine with regex / json_schema sampling params) with Python's
                    `re.fullmatch` (regexes) or `json.loads` + `jsonschema` with format checks (schemas),
                    writes the verdicts next to it (OUTPUTS with .checked.json) and prints a summary.
pip install jsonschema rfc3339-validator
"""
import argparse, json, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def write_suite(path):
    import make_grammar_fixtures as fx
    regexes = [{"name": f"regex_{i:02d}", "regex": p,
                "prompt": f"Write one string that fully matches the regular expression {p!r}. Answer with the string only."}
               for i, p in enumerate(fx.REGEXES)]
    schemas = [{"name": name, "schema": json.dumps(schema, separators=(",", ":")),
                "prompt": f"Generate a realistic JSON value for this JSON schema: {json.dumps(schema)}"}
               for name, schema in fx.SCHEMAS]
    with open(path, "w") as f:
        json.dump({"regexes": regexes, "schemas": schemas}, f, indent=1, ensure_ascii=False)
    print(f"{len(regexes)} regexes, {len(schemas)} schemas -> {path}")


def check(path, args_out=None):
    import jsonschema
    rows = [json.loads(line) for line in open(path) if line.strip()]
    verdicts, bad = [], 0
    for r in rows:
        text = r["text"]
        if r["kind"] == "regex":
            ok = re.fullmatch(r["regex"], text) is not None
        else:
            schema = json.loads(r["schema"])
            try:
                value = json.loads(text)
                ok = jsonschema.Draft202012Validator(
                    schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).is_valid(value)
            except ValueError:
                ok = False
        if not ok:
            bad += 1
            print(f"INVALID {r['kind']} {r['name']} seed {r['seed']} ({r['finish']}): {text[:120]!r}", file=sys.stderr)
        verdicts.append({"kind": r["kind"], "name": r["name"], r["kind"]: r[r["kind"]], "seed": r["seed"],
                         "jump_forward": r.get("jump_forward"), "finish": r["finish"],
                         "completion_tokens": r.get("completion_tokens"),
                         "completion_tokens_wo_jump_forward": r.get("completion_tokens_wo_jump_forward"),
                         "text": text, "valid": ok})
    out = args_out or os.path.splitext(path)[0] + ".checked.json"
    with open(out, "w") as f:
        json.dump(verdicts, f, indent=1, ensure_ascii=False)
    print(f"{len(rows) - bad}/{len(rows)} outputs valid (regex: re.fullmatch; schema: jsonschema) -> {out}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-suite")
    ap.add_argument("--check")
    ap.add_argument("--checked-out", help="where to write the verdicts (default: OUTPUTS.checked.json)")
    a = ap.parse_args()
    if a.write_suite:
        write_suite(a.write_suite)
    if a.check:
        check(a.check, a.checked_out)
