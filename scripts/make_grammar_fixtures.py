#!/usr/bin/env python3
"""Generates the grammar test expectations in Tests/GrammarFixtures/ with Python's `re` and `jsonschema`.

regex_cases.json:  for each pattern, strings labelled with `re.fullmatch(pattern, s) is not None`
                   (samples drawn from the pattern plus random mutations), and invalid patterns.
schema_cases.json: for each JSON schema, outlines 0.0.46's `build_regex_from_schema` output where outlines
                   supports the schema (outlines is what SGLang v0.3 uses), strings labelled by `re.fullmatch`
                   on that regex and by `jsonschema`, and hand-written instances labelled by `jsonschema`.
schema_dfa_samples.json (second pass, `--validate-dfa-samples`): strings the Swift DFA sampled (written by
                   the Swift test with GRAMMAR_DUMP_SAMPLES=path) labelled by `jsonschema` and `json.loads`.

Usage: python3 scripts/make_grammar_fixtures.py [--outlines PATH_TO_outlines/fsm/json_schema.py]
       python3 scripts/make_grammar_fixtures.py --validate-dfa-samples DUMP.json
Needs: pip install jsonschema rfc3339-validator pydantic referencing (outlines' module is loaded from a file, no torch needed).
"""
import argparse, importlib.util, json, os, random, re, sys
try:
    import sre_parse, sre_constants as C
except ImportError:  # Python 3.13+
    import re._parser as sre_parse, re._constants as C
import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "GrammarFixtures")

CHARACTER_REGEX = (
    r"""\{\n"""
    + r"""    "name": "[\w\d\s]{1,16}",\n"""
    + r"""    "house": "(Gryffindor|Slytherin|Ravenclaw|Hufflepuff)",\n"""
    + r"""    "blood status": "(Pure-blood|Half-blood|Muggle-born)",\n"""
    + r"""    "occupation": "(student|teacher|auror|ministry of magic|death eater|order of the phoenix)",\n"""
    + r"""    "wand": \{\n"""
    + r"""        "wood": "[\w\d\s]{1,16}",\n"""
    + r"""        "core": "[\w\d\s]{1,16}",\n"""
    + r"""        "length": [0-9]{1,2}\.[0-9]{0,2}\n"""
    + r"""    \},\n"""
    + r"""    "alive": "(Alive|Deceased)",\n"""
    + r"""    "patronus": "[\w\d\s]{1,16}",\n"""
    + r"""    "bogart": "[\w\d\s]{1,16}"\n"""
    + r"""\}"""
)

REGEXES = [
    r"[-+]?[0-9]+[ \n]*",                      # SGLang dtype int
    r"[-+]?[0-9]*\.?[0-9]+[ \n]*",             # SGLang dtype float
    r"(True|False)",                           # SGLang dtype bool
    r"\"[\w\d\s]*\"",                          # SGLang dtype str
    CHARACTER_REGEX,
    r"((25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(25[0-5]|2[0-4]\d|[01]?\d\d?)",
    r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}",
    r"\d{4}-\d{2}-\d{2}",
    r"\(\d{3}\) \d{3}-\d{4}",
    r"(abc|abd|a)*c?",
    r"a{2,4}b{3}c{0,2}d{2,}",
    r"x{,3}y{}z",
    r".*",
    r".+?end",
    r"[^abc]+",
    r"[^\d\s]{2,5}",
    r"\w+",
    r"\W*\S\D",
    r"\s+",
    r"[\u4e00-\u9fff]{1,4}",
    r"[αβγ]+[а-я]*",
    r"😀|🎉+|[\U0001F600-\U0001F64F]{2}",
    r"é+|e\u0301",
    r"^(yes|no)$",
    r"\Ahello\Z",
    r"(?:ab)+(?P<tail>c|d)?",
    r"colou?r|gr[ae]y",
    r"[A-Z][a-z]*( [A-Z][a-z]*)*",
    r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?",
    r"[\x00-\x1f\x7f]",
    r"\x41\x42\u0043\101\0",
    r"[\]\[\\-]+",
    r"[-a]|[a-]|[]x]",
    r"(a|b)*abb",
    r"((a|)|b)*",
    r"(a*)*b",
    r"[.][*]\.\*\?\+\(\)\{\}\|\^\$",
    r"(?#comment)ab(?:)c",
    r"\t\n\r\f\v\a",
    r"[\w-]+(\.[\w-]+)*",
    r"(\d+(\.\d*)?|\.\d+)(e\d+)?",
    r"[^\n]*\n",
    r"a??b*?c+?d{1,2}?",
    r"(([a-z]{1,3}):)?//[a-z.]+(:\d{2,5})?(/[a-z]*)*",
]

INVALID_REGEXES = [
    "(ab", "ab)", "[abc", "a**", "*a", "+", "?x", "a{3,2}", "[z-a]", r"\q", r"abc\\\
".rstrip("\n"), r"\x4", r"[\d-z]", "a|*", "(?P<>a)", r"\u12", "(?Px)", "a{2}{3}",
]
UNSUPPORTED_REGEXES = [r"(a)\1", r"(?=a)a", r"(?!a)b", r"(?<=a)b", r"\bword\b", r"(?i)abc", r"a*+", r"(?P<n>a)(?P=n)"]

POOL = (list("abcdexyzABCXYZ0123456789 _-.,:;\"'\\{}[]()/@+*?") + ["\n", "\t", "\r", "\x00", "\x1f", "\x7f",
        "é", "ж", "α", "中", "😀", "🎉", "٣", "\u3000", "\x85", "\u0301", "ß", "Ⅷ", "\U0001F64F"])


class Sampler:
    """Draws random strings from a parsed `re` pattern (sre_parse tree)."""

    def __init__(self, rng, max_repeat=4):
        self.rng, self.max_repeat = rng, max_repeat

    def chars_for(self, items, negate):
        """A character matching the class (items: sre IN items)."""
        pattern_cache = self._class_regex(items, negate)
        cands = [c for c in POOL if pattern_cache.fullmatch(c)]
        # add range endpoints
        for op, av in items:
            if op == C.RANGE:
                lo, hi = av
                for v in (lo, hi, self.rng.randint(lo, hi)):
                    if not 0xD800 <= v <= 0xDFFF and pattern_cache.fullmatch(chr(v)):
                        cands.append(chr(v))
            elif op == C.LITERAL and not negate:
                cands.append(chr(av))
        return self.rng.choice(cands) if cands else None

    def _class_regex(self, items, negate):
        parts = []
        for op, av in items:
            if op == C.LITERAL:
                parts.append(re.escape(chr(av)) if chr(av) not in "]\\^-" else "\\" + chr(av))
            elif op == C.RANGE:
                parts.append("\\U%08x-\\U%08x" % av)
            elif op == C.CATEGORY:
                parts.append({C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_WORD: r"\w",
                              C.CATEGORY_NOT_WORD: r"\W", C.CATEGORY_SPACE: r"\s", C.CATEGORY_NOT_SPACE: r"\S"}[av])
            elif op == C.NEGATE:
                negate = True
        return re.compile("[" + ("^" if negate else "") + "".join(parts) + "]")

    def gen(self, tree):
        out = []
        for op, av in tree:
            s = self.one(op, av)
            if s is None:
                return None
            out.append(s)
        return "".join(out)

    def one(self, op, av):
        r = self.rng
        if op == C.LITERAL:
            return chr(av)
        if op == C.NOT_LITERAL:
            return r.choice([c for c in POOL if c != chr(av) and c != "\n"] )
        if op == C.ANY:
            return r.choice([c for c in POOL if c != "\n"])
        if op == C.IN:
            neg = any(o == C.NEGATE for o, _ in av)
            return self.chars_for([x for x in av if x[0] != C.NEGATE], neg)
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
            lo, hi, sub = av
            hi = min(hi, lo + self.max_repeat) if hi != C.MAXREPEAT else lo + self.max_repeat
            n = r.randint(lo, hi)
            parts = [self.gen(sub) for _ in range(n)]
            return None if any(p is None for p in parts) else "".join(parts)
        if op == C.SUBPATTERN:
            return self.gen(av[-1])
        if op == C.BRANCH:
            return self.gen(r.choice(av[1]))
        if op == C.AT:
            return ""
        raise ValueError(f"sampler: unsupported op {op}")


def mutate(rng, s):
    k = rng.randrange(6)
    i = rng.randrange(len(s) + 1)
    c = rng.choice(POOL)
    if k == 0 and s:
        return s[:i] + s[i + 1:]
    if k == 1:
        return s[:i] + c + s[i:]
    if k == 2 and s:
        j = min(i, len(s) - 1)
        return s[:j] + c + s[j + 1:]
    if k == 3:
        return s[:i]
    if k == 4:
        return s + s[i:]
    return s + c


def labelled_strings(pattern, rng, n_samples=14, n_mutations=14):
    compiled = re.compile(pattern)
    tree = sre_parse.parse(pattern)
    sampler = Sampler(rng)
    seen, out = set(), []
    samples = []
    for _ in range(n_samples * 3):
        s = sampler.gen(tree)
        if s is not None and s not in seen:
            seen.add(s)
            samples.append(s)
        if len(samples) >= n_samples:
            break
    extra = ["", " ", "a", "0", "\n"]
    cands = samples + [mutate(rng, rng.choice(samples)) for _ in range(n_mutations)] if samples else extra
    for s in cands + extra:
        if s in seen and s not in samples:
            continue
        seen.add(s)
        out.append({"text": s, "match": compiled.fullmatch(s) is not None})
    # dedupe preserving order
    uniq, keys = [], set()
    for o in out:
        if o["text"] not in keys:
            keys.add(o["text"])
            uniq.append(o)
    return uniq


SCHEMAS = [
    ("simple_object", {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                       "required": ["name", "age"]}),
    ("optional_props", {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "boolean"},
                        "c": {"type": "null"}}, "required": ["b"]}),
    ("no_required", {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "string"}}}),
    ("enum_const", {"type": "object", "properties": {"color": {"enum": ["red", "green", "blue", 1, None, True]},
                    "kind": {"const": "fixed"}}, "required": ["color", "kind"]}),
    ("nested", {"type": "object", "properties": {"user": {"type": "object", "properties": {
        "id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}}, "required": ["id", "tags"]}},
        "required": ["user"]}),
    ("array_bounds", {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 4}),
    ("array_min1", {"type": "array", "items": {"type": "boolean"}, "minItems": 1}),
    ("array_empty_only", {"type": "array", "items": {"type": "integer"}, "maxItems": 0}),
    ("string_length", {"type": "object", "properties": {"code": {"type": "string", "minLength": 2, "maxLength": 5}},
                       "required": ["code"]}),
    ("string_pattern", {"type": "object", "properties": {"zip": {"type": "string", "pattern": "^[0-9]{5}$"},
                        "sku": {"type": "string", "pattern": "[A-Z]{3}-[0-9]{2}"}}, "required": ["zip", "sku"]}),
    ("formats", {"type": "object", "properties": {"d": {"type": "string", "format": "date"},
                 "dt": {"type": "string", "format": "date-time"}, "t": {"type": "string", "format": "time"},
                 "u": {"type": "string", "format": "uuid"}}, "required": ["d", "dt", "t", "u"]}),
    ("anyof", {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 3}, {"type": "null"}]}),
    ("oneof", {"type": "object", "properties": {"v": {"oneOf": [{"type": "boolean"}, {"type": "array",
               "items": {"type": "number"}, "maxItems": 2}]}}, "required": ["v"]}),
    ("allof_single", {"allOf": [{"type": "object", "properties": {"k": {"type": "integer"}}, "required": ["k"]}]}),
    ("refs_defs", {"$defs": {"Point": {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
                   "required": ["x", "y"]}}, "type": "object", "properties": {"a": {"$ref": "#/$defs/Point"},
                   "b": {"$ref": "#/$defs/Point"}}, "required": ["a", "b"]}),
    ("pydantic_model", {"$defs": {"Weapon": {"enum": ["sword", "axe", "bow"], "title": "Weapon", "type": "string"}},
                        "properties": {"name": {"maxLength": 10, "title": "Name", "type": "string"},
                                       "age": {"title": "Age", "type": "integer"},
                                       "weapon": {"$ref": "#/$defs/Weapon"},
                                       "strength": {"title": "Strength", "type": "integer"}},
                        "required": ["name", "age", "weapon", "strength"], "title": "Character", "type": "object"}),
    ("type_list", {"type": ["string", "integer", "null"]}),
    ("object_additional_schema", {"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 3}),
    ("object_free", {"type": "object", "depth": 1}),
    ("prefix_items", {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]}),
    ("fixed_keys", {"type": "object", "properties": {"name": {"type": "string"}, "house": {"enum": ["Gryffindor",
                    "Slytherin", "Ravenclaw", "Hufflepuff"]}, "year": {"type": "integer"}}, "required": ["name", "house", "year"]}),
    ("number_digits", {"type": "object", "properties": {"n": {"type": "number", "maxDigitsInteger": 3, "maxDigitsFraction": 2},
                       "i": {"type": "integer", "maxDigits": 4}}, "required": ["n", "i"]}),
    ("escaped_key", {"type": "object", "properties": {"a.b": {"type": "string"}, "c+d": {"type": "boolean"}},
                     "required": ["a.b", "c+d"]}),
    ("array_of_objects", {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"},
                          "ok": {"type": "boolean"}}, "required": ["id"]}, "maxItems": 3}),
    # Beyond outlines 0.0.46 (no `expected_regex`): integer bounds, email/uri formats, recursion, additionalProperties false.
    ("integer_bounds", {"type": "object", "properties": {"age": {"type": "integer", "minimum": 18, "maximum": 120},
                        "score": {"type": "integer", "exclusiveMinimum": -5, "exclusiveMaximum": 1000}}, "required": ["age", "score"]}),
    ("integer_min_only", {"type": "integer", "minimum": 7}),
    ("email_uri", {"type": "object", "properties": {"email": {"type": "string", "format": "email"},
                   "site": {"type": "string", "format": "uri"}}, "required": ["email", "site"]}),
    ("recursive_tree", {"$defs": {"Node": {"type": "object", "properties": {"value": {"type": "integer"},
                        "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}, "required": ["value", "children"]}},
                        "$ref": "#/$defs/Node"}),
    ("additional_false", {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],
                          "additionalProperties": False}),
]

HAND_INSTANCES = {
    "integer_bounds": [{"age": 18, "score": -4}, {"age": 120, "score": 999}, {"age": 17, "score": 0}, {"age": 121, "score": 0},
                       {"age": 50, "score": -5}, {"age": 50, "score": 1000}, {"age": 99, "score": 0}],
    "integer_min_only": [7, 8, 10, 99, 1000, 6, 0, -7, 70],
    "email_uri": [{"email": "a.b@example.com", "site": "https://example.com/x?y=1"}, {"email": "nope", "site": "http://a.org"},
                  {"email": "x@y.io", "site": "ftp://host/path"}],
    "recursive_tree": [{"value": 1, "children": []}, {"value": 1, "children": [{"value": 2, "children": []}]},
                       {"value": 1}, {"value": 1, "children": [{"value": "x", "children": []}]}],
    "additional_false": [{"a": "x"}, {"a": "x", "b": 1}, {}],
}


def load_outlines(path):
    spec = importlib.util.spec_from_file_location("outlines_json_schema", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    # Fixes shared with the Swift port: RFC 3339 date/time/date-time (outlines allowed Unicode digits, long
    # years, Feb 30, no offset, and `\\.` in times), and at least one fraction/exponent digit ("1." was allowed).
    date_body = r'(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))'
    time_body = r'(2[0-3]|[01][0-9]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-](2[0-3]|[01][0-9]):[0-5][0-9])'
    mod.format_to_regex["date"] = f'"{date_body}"'
    mod.format_to_regex["time"] = f'"{time_body}"'
    mod.format_to_regex["date-time"] = f'"{date_body}T{time_body}"'
    original = mod.validate_quantifiers

    def validate_quantifiers(min_bound, max_bound, start_offset=0):
        if start_offset == 0 and min_bound is None:
            min_bound = 1
        return original(min_bound, max_bound, start_offset)

    mod.validate_quantifiers = validate_quantifiers
    return mod


def compact(v):
    return json.dumps(v, separators=(",", ":"))


def schema_cases(outlines, rng):
    cases = []
    for name, schema in SCHEMAS:
        case = {"name": name, "schema": compact(schema)}
        samples = []
        try:
            regex = outlines.build_regex_from_schema(json.dumps(schema))
            if name in HAND_INSTANCES:
                raise NotImplementedError  # outlines ignores these keywords: no reference regex
            case["expected_regex"] = regex
            compiled = re.compile(regex)
            for item in labelled_strings(regex, rng, n_samples=10, n_mutations=10):
                text = item["text"]
                try:
                    valid = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).is_valid(json.loads(text))
                except ValueError:
                    valid = False
                if item["match"] and not valid:
                    print(f"note: {name}: outlines regex accepts a schema-invalid string {text!r}", file=sys.stderr)
                samples.append({"text": text, "match": item["match"], "valid": valid})
        except (NotImplementedError, RecursionError):
            pass  # outlines rejects the schema (or recurses forever): hand-written instances only
        for inst in HAND_INSTANCES.get(name, []):
            text = json.dumps(inst)
            checker = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            samples.append({"text": text, "valid": checker.is_valid(inst)})
        case["samples"] = samples
        cases.append(case)
    return cases


def validate_dfa_samples(dump_path):
    dump = json.load(open(dump_path))
    schemas = dict(SCHEMAS)
    out = {}
    for name, texts in dump.items():
        schema = schemas[name]
        rows = []
        for t in texts:
            try:
                valid = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).is_valid(json.loads(t))
            except ValueError:
                valid = False
            rows.append({"text": t, "valid": valid})
        bad = [r["text"] for r in rows if not r["valid"]]
        if bad:
            print(f"{name}: {len(bad)} invalid DFA samples, e.g. {bad[0]!r}", file=sys.stderr)
        out[name] = rows
    with open(os.path.join(OUT, "schema_dfa_samples.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--outlines", default="/tmp/outl/outlines/fsm/json_schema.py")
    ap.add_argument("--validate-dfa-samples")
    args = ap.parse_args()
    if args.validate_dfa_samples:
        validate_dfa_samples(args.validate_dfa_samples)
        return
    rng = random.Random(1234)
    regex_cases = [{"pattern": p, "strings": labelled_strings(p, rng)} for p in REGEXES]
    for p in INVALID_REGEXES:
        try:
            re.compile(p)
            raise SystemExit(f"expected invalid: {p!r}")
        except re.error:
            pass
    for p in UNSUPPORTED_REGEXES:
        re.compile(p)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "regex_cases.json"), "w") as f:
        json.dump({"cases": regex_cases, "invalid": INVALID_REGEXES, "unsupported": UNSUPPORTED_REGEXES}, f,
                  indent=1, ensure_ascii=False)
    outlines = load_outlines(args.outlines)
    with open(os.path.join(OUT, "schema_cases.json"), "w") as f:
        json.dump({"cases": schema_cases(outlines, rng)}, f, indent=1, ensure_ascii=False)
    print(f"{len(regex_cases)} regexes, {len(SCHEMAS)} schemas")


if __name__ == "__main__":
    main()
