#!/usr/bin/env python3
"""Checks every conformance vector file under tests/vectors/ and prints case counts per file.

A vector file is tests/vectors/<area>/<function>.json; the folders schema/ and tools/ hold no
vectors. Each file is checked against schema/vectors.schema.json by the small draft 2020-12
validator below (only the keywords that schema uses; an unknown keyword is an error, so the
schema cannot silently outgrow the checker), and then against the rules a schema cannot state:

  * the file lives at <area>/<function>.json, with "area" equal to the folder name and
    "function" equal to the file name;
  * no JSON fraction, exponent, NaN or Infinity anywhere, and no duplicate object keys (where a
    JSON integer may appear is the schema's business: only in the status documents of status/);
  * descriptions are unique within a file, across "valid" and "invalid";
  * the file has at least one case.

Exits 1 and names every problem when anything is wrong. Python 3.11 standard library only.
"""

import json
import re
import sys
from pathlib import Path

VECTORS = Path(__file__).resolve().parents[1]
SCHEMA_PATH = VECTORS / "schema" / "vectors.schema.json"
NOT_VECTOR_DIRS = {"schema", "tools"}


# --------------------------------------------------------------------------------------------
# A minimal JSON Schema (draft 2020-12) validator for the keywords vectors.schema.json uses.
# --------------------------------------------------------------------------------------------

ANNOTATIONS = {"$schema", "$id", "$comment", "title", "description", "$defs"}
TYPES = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
}


def ecma_pattern(pattern):
    # ECMA-262 "$" (no multiline flag) matches only at the very end; Python's "$" also matches
    # before a final newline, so a trailing "$" becomes "\Z".
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def json_equal(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


class Validator:
    def __init__(self, root):
        self.root = root
        self.patterns = {}

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise ValueError(f"unsupported $ref {ref!r}")
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def errors(self, schema, value, path="$"):
        """Yields (path, message) for each way value fails schema."""
        if schema is True:
            return
        if schema is False:
            yield path, "no value is allowed here"
            return
        for keyword in schema:
            if keyword not in ANNOTATIONS and keyword not in KEYWORDS:
                raise ValueError(f"schema keyword {keyword!r} is not supported by check.py")
        if "$ref" in schema:
            yield from self.errors(self.resolve(schema["$ref"]), value, path)
        if "type" in schema:
            allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(TYPES[t](value) for t in allowed):
                if TYPES["integer"](value):
                    yield path, f"JSON number {value}: integers travel as strings here"
                else:
                    yield path, f"expected {' or '.join(allowed)}, got {json.dumps(value)[:60]}"
                return
        if "const" in schema and not json_equal(value, schema["const"]):
            yield path, f"expected {json.dumps(schema['const'])}"
        if "enum" in schema and not any(json_equal(value, e) for e in schema["enum"]):
            yield path, f"{json.dumps(value)[:60]} is not one of {schema['enum']}"
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                yield path, f"shorter than {schema['minLength']} characters"
            if "pattern" in schema:
                regex = self.patterns.setdefault(schema["pattern"], ecma_pattern(schema["pattern"]))
                if not regex.search(value):
                    yield path, f"{json.dumps(value)[:60]} does not match {schema['pattern']}"
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                yield path, f"fewer than {schema['minItems']} items"
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                yield path, f"more than {schema['maxItems']} items"
            if "items" in schema:
                for i, item in enumerate(value):
                    yield from self.errors(schema["items"], item, f"{path}[{i}]")
        if isinstance(value, dict):
            for key in schema.get("required", []):
                if key not in value:
                    yield path, f"missing required key {key!r}"
            properties = schema.get("properties", {})
            for key, item in value.items():
                if key in properties:
                    yield from self.errors(properties[key], item, f"{path}.{key}")
                elif "additionalProperties" in schema:
                    extra = schema["additionalProperties"]
                    if extra is False:
                        yield f"{path}.{key}", "key not allowed"
                    else:
                        yield from self.errors(extra, item, f"{path}.{key}")
        for sub in schema.get("allOf", []):
            yield from self.errors(sub, value, path)
        if "anyOf" in schema:
            if not any(not list(self.errors(sub, value, path)) for sub in schema["anyOf"]):
                yield path, "matches none of anyOf"
        if "not" in schema and not list(self.errors(schema["not"], value, path)):
            yield path, "matches a schema it must not match"
        if "if" in schema:
            branch = "then" if not list(self.errors(schema["if"], value, path)) else "else"
            if branch in schema:
                yield from self.errors(schema[branch], value, path)


KEYWORDS = {"$ref", "type", "const", "enum", "minLength", "pattern", "minItems", "maxItems",
            "items", "required", "properties", "additionalProperties", "allOf", "anyOf", "not",
            "if", "then", "else"}


# --------------------------------------------------------------------------------------------
# Rules outside the schema
# --------------------------------------------------------------------------------------------

class StrictLoad:
    """json.loads hooks that record non-integer numbers and duplicate keys instead of accepting them.

    JSON integers load as ints, so the schema reports every one outside the single place it
    allows them; a fraction or exponent is never right, because no float touches money.
    """

    def __init__(self):
        self.problems = []

    def number(self, text):
        self.problems.append(f"JSON number {text} (integers travel as strings; floats never)")
        return text

    def pairs(self, pairs):
        seen = {}
        for key, value in pairs:
            if key in seen:
                self.problems.append(f"duplicate key {key!r}")
            seen[key] = value
        return seen

    def load(self, text):
        return json.loads(text, parse_float=self.number, parse_constant=self.number,
                          object_pairs_hook=self.pairs)


def vector_files():
    for path in sorted(VECTORS.rglob("*.json")):
        rel = path.relative_to(VECTORS)
        if rel.parts[0] in NOT_VECTOR_DIRS:
            continue
        yield path, rel


def check_file(validator, schema, path, rel):
    problems = []
    if len(rel.parts) != 2:
        return [f"not at <area>/<function>.json"], None
    loader = StrictLoad()
    try:
        doc = loader.load(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return [f"not valid UTF-8 JSON: {e}"], None
    problems += loader.problems
    problems += [f"{where}: {what}" for where, what in validator.errors(schema, doc)]
    if not isinstance(doc, dict):
        return problems, None
    if doc.get("area") != rel.parts[0]:
        problems.append(f"area {doc.get('area')!r} differs from folder {rel.parts[0]!r}")
    if doc.get("function") != path.stem:
        problems.append(f"function {doc.get('function')!r} differs from file name {path.stem!r}")
    valid = doc.get("valid") if isinstance(doc.get("valid"), list) else []
    invalid = doc.get("invalid") if isinstance(doc.get("invalid"), list) else []
    seen = set()
    for case in valid + invalid:
        description = case.get("description") if isinstance(case, dict) else None
        if description in seen:
            problems.append(f"duplicate description {description!r}")
        seen.add(description)
    if not valid and not invalid:
        problems.append("no cases")
    return problems, (len(valid), len(invalid))


def main():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = Validator(schema)
    failed = False
    total = files = 0
    for path, rel in vector_files():
        problems, counts = check_file(validator, schema, path, rel)
        files += 1
        if counts:
            total += sum(counts)
            print(f"{rel}: {counts[0]} valid, {counts[1]} invalid, {sum(counts)} cases")
        for problem in problems:
            failed = True
            print(f"PROBLEM {rel}: {problem}", file=sys.stderr)
    if files == 0:
        print("PROBLEM: no vector files found", file=sys.stderr)
        failed = True
    print(f"{files} files, {total} cases" + (", with problems" if failed else ", all good"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
