#!/usr/bin/env python3
"""Layer check for src/ (DESIGN.md §2), called by scripts/check-layers.sh.

The layer table comes on standard input (it lives in check-layers.sh; its format is
described there). Checks, on non-test code only:

1. every top-level module under src/ has a row in the table;
2. no file imports (`crate::…` or `super::…`) a module of a higher layer; L1 and L2
   modules do not import other modules of their own layer unless an `allow` row says so;
3. L0 files use no I/O, async, clocks or logging (the FORBIDDEN list);
4. the layer table in the crate doc (src/lib.rs) lists every module under its layer.

Test code is left out: side files (tests.rs, *_tests.rs anywhere; fixture.rs and fake.rs
under mysql/ and topology/), `#[cfg(test)] mod x;` lines and `#[cfg(test)] mod x { … }`
blocks. Everything else is read to the end of the file. Comments and string literals
are blanked before matching.

Usage: python3 scripts/check_layers.py [--graph] < table
  --graph  also print every cross-module import edge (module -> module: file:line)
"""
import os
import re
import sys

SRC = "src"
RANK = {"L0": 0, "L1": 1, "L2": 2, "L3": 3}
# Same-layer imports allowed without an `allow` row: the pure core may build on itself,
# the edge wires everything.
SAME_LAYER_OK = {"L0", "L3"}
FORBIDDEN = re.compile(
    r"tokio::|mysql_async|openssh|tracing::|std::fs|std::net|std::process"
    r"|Instant::now|SystemTime::now|Utc::now|Local::now"
)
SIDE_TEST_FILE = re.compile(r"(^|/)(tests|[a-z0-9_]+_tests)\.rs$|^(mysql|topology)/(fixture|fake)\.rs$")


def fail(msg):
    print(f"check-layers: {msg}", file=sys.stderr)
    sys.exit(2)


def read_table(text):
    """Module layers, per-file layers and allowed same-layer/upward pairs."""
    modules, files, allow = {}, {}, {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0] == "allow":
            if len(words) < 4 or words[2] != "->":
                fail(f"table line {n}: want 'allow FROM -> TO reason…': {raw}")
            allow[(words[1], words[3])] = " ".join(words[4:])
            continue
        if len(words) < 2 or words[1] not in RANK:
            fail(f"table line {n}: want 'NAME LAYER [reason…]': {raw}")
        name, layer, reason = words[0], words[1], " ".join(words[2:])
        if "/" in name:
            if not reason:
                fail(f"table line {n}: a per-file layer needs a reason: {raw}")
            files[name] = layer
        else:
            modules[name] = layer
    for (a, b), reason in allow.items():
        if not reason:
            fail(f"table: 'allow {a} -> {b}' needs a reason")
    return modules, files, allow


def blank_strings_and_comments(text):
    """Same length and line breaks, with comments and string/char literals blanked."""
    out, i, n = [], 0, len(text)

    def blank(s):
        return re.sub(r"[^\n]", " ", s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif (m := re.compile(r'b?r(#*)"').match(text, i)) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = text.find('"' + m.group(1), m.end())
            j = n if end < 0 else end + 1 + len(m.group(1))
            out.append(blank(text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(blank(text[i : j + 1]))
            i = j + 1
        elif c == "'" and (m := re.compile(r"'(\\.[^']*|[^\\'])'").match(text, i)):
            out.append(blank(m.group(0)))
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


MOD_DECL = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?mod\s+(\w+)\s*(;|\{)")


def non_test_lines(code):
    """(line number, text) of code outside `#[cfg(test)] mod …` items."""
    lines = code.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "#[cfg(test)]" in line:
            rest, j = line.split("#[cfg(test)]", 1)[1], i
            # Further attributes (`#[path = …]`) may sit between it and the `mod`.
            while not rest.strip() or re.fullmatch(r"\s*(#\[[^\]]*\]\s*)+", rest):
                j += 1
                if j >= len(lines):
                    break
                rest = lines[j]
            m = MOD_DECL.match(rest)
            if m and m.group(4) == ";":
                i = j + 1
                continue
            if m:
                depth, k = 0, j
                while k < len(lines):
                    depth += lines[k].count("{") - lines[k].count("}")
                    k += 1
                    if depth <= 0:
                        break
                i = k
                continue
        yield i + 1, line
        i += 1


def module_path(rel):
    """`monitor/probe.rs` -> ['monitor', 'probe']; `state/mod.rs` -> ['state']."""
    parts = rel[:-3].split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def file_of(parts, known):
    """The source file (relative to src/) holding module path `parts`, or None."""
    for cand in ("/".join(parts) + ".rs", "/".join(parts) + "/mod.rs"):
        if cand in known:
            return cand
    return None


def resolve(parts, known, depth=0):
    """The file that defines the item at path `parts`: the deepest module on the path
    that has a file, following that file's `pub use` re-exports (`pub use model::*;`,
    `pub use error::ConfigError;`) to the file that defines the item. A path that names
    a module itself (`crate::config`) resolves to None: the module's own layer applies."""
    for cut in range(len(parts), 0, -1):
        f = file_of(parts[:cut], known)
        if not f:
            continue
        if cut == len(parts):
            return None
        item = parts[cut]
        via = reexport(f, parts[:cut], item, known) if depth < 8 else None
        return resolve(via, known, depth + 1) or f if via else f
    return None


def reexport(f, mod, item, known):
    """Where a `pub use` in file `f` (module path `mod`) takes `item` from, or None."""
    code = blank_strings_and_comments(open(os.path.join(SRC, f)).read())
    for m in re.finditer(r"\bpub(?:\(crate\))?\s+use\s+([^;]+);", code):
        body = m.group(1).strip()
        if body.startswith("crate::"):
            base, body = [], body[len("crate::") :]
        elif body.startswith("super::"):
            base, body = mod[:-1], body[len("super::") :]
        else:
            base = list(mod)
        for path, alias in use_tree(body):
            if path[-1] == "*":
                src = base + path[:-1]
                sf = file_of(src, known)
                if sf and re.search(
                    rf"\b(struct|enum|fn|const|type|trait|static|mod|union)\s+{item}\b",
                    blank_strings_and_comments(open(os.path.join(SRC, sf)).read()),
                ):
                    return src + [item]
            elif (alias or path[-1]) == item:
                return base + path
    return None


def use_tree(body, prefix=()):
    """`a::{b, c::{d as e, *}}` -> ([a,b],None), ([a,c,d],'e'), ([a,c,'*'],None)."""
    body = body.strip()
    head, sep, rest = body.partition("{")
    if not sep:
        m = re.fullmatch(r"([\w:*]+?)(?:\s+as\s+(\w+))?", body)
        if m:
            yield list(prefix) + [p for p in m.group(1).split("::") if p], m.group(2)
        return
    prefix = list(prefix) + [p for p in head.strip().rstrip(":").split("::") if p]
    inner = rest[: rest.rfind("}")]
    depth, start = 0, 0
    for i, c in enumerate(inner + ","):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 0:
            piece = inner[start:i].strip()
            start = i + 1
            if piece == "self":
                yield prefix, None
            elif piece:
                yield from use_tree(piece, prefix)


def crate_paths(code):
    """Every `crate::a::b…` path with its offset; `crate::a::{b, c::d}` groups expanded."""
    for m in re.finditer(r"\bcrate::", code):
        i = m.end()
        t = re.compile(r"[\w:]*").match(code, i).end()
        if code.startswith("{", t):
            depth, j = 0, t
            while j < len(code):
                depth += {"{": 1, "}": -1}.get(code[j], 0)
                j += 1
                if depth == 0:
                    break
            tree = code[i:j]
        else:
            tree = code[i:t].rstrip(":")
        for path, _ in use_tree(tree):
            path = [p for p in path if p not in ("*", "self")]
            if path:
                yield m.start(), path


def main():
    modules, file_layers, allow = read_table(sys.stdin.read())
    graph = "--graph" in sys.argv
    errors = []

    known, tops = set(), set()
    for root, dirs, names in os.walk(SRC):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(".rs"):
                known.add(os.path.relpath(os.path.join(root, name), SRC))
    for entry in os.listdir(SRC):
        if entry.endswith(".rs"):
            tops.add(entry[:-3])
        elif os.path.isdir(os.path.join(SRC, entry)):
            tops.add(entry)
    for top in sorted(tops - set(modules)):
        errors.append(f"src/{top}: top-level module not in the layer table; classify it in scripts/check-layers.sh")
    for f in sorted(set(file_layers) - known):
        errors.append(f"src/{f}: listed in the layer table but does not exist")

    def layer_of_file(rel):
        return file_layers.get(rel) or modules.get(rel.split("/")[0].removesuffix(".rs"))

    for rel in sorted(known):
        if SIDE_TEST_FILE.search(rel):
            continue
        me = module_path(rel)
        top = me[0] if me else rel[:-3]
        my_layer = layer_of_file(rel)
        if my_layer is None:
            continue  # reported above
        source = open(os.path.join(SRC, rel)).read()
        code = blank_strings_and_comments(source)
        lines = list(non_test_lines(code))
        text = "\n".join(l for _, l in lines)
        line_no = [n for n, _ in lines]

        # Inline (non-test) `mod x { … }` blocks change what `super::` means.
        depth, stack, ctx_by_line = 0, [], []
        for idx, (_, l) in enumerate(lines):
            m = MOD_DECL.match(l)
            if m and m.group(4) == "{":
                stack.append((depth, m.group(3)))
            ctx_by_line.append([name for _, name in stack])
            depth += l.count("{") - l.count("}")
            while stack and depth <= stack[-1][0]:
                stack.pop()

        offsets = [0]
        for l in text.split("\n"):
            offsets.append(offsets[-1] + len(l) + 1)

        def line_index(off):
            lo, hi = 0, len(offsets) - 1
            while lo < hi - 1:
                mid = (lo + hi) // 2
                if offsets[mid] <= off:
                    lo = mid
                else:
                    hi = mid
            return lo

        refs = [(off, path) for off, path in crate_paths(text)]
        for m in re.finditer(r"(?<![\w:])((?:super::)+)(\w+(::\w+)*)?", text):
            idx = line_index(m.start())
            base = me + ctx_by_line[idx]
            ups = m.group(1).count("super::")
            if ups > len(base):
                continue
            rest = m.group(2).split("::") if m.group(2) else []
            refs.append((m.start(), base[: len(base) - ups] + rest))

        for off, path in refs:
            idx = line_index(off)
            where = f"src/{rel}:{line_no[idx]}"
            target_top = path[0] if path else None
            if target_top not in modules:
                continue  # a crate-root item or macro, not a module
            target_file = resolve(path, known)
            target_layer = (file_layers.get(target_file) if target_file else None) or modules[target_top]
            if target_top == top:
                # Inside one module only the per-file layers matter: a pure file must
                # not call into the module's I/O file.
                if RANK[target_layer] > RANK[my_layer]:
                    errors.append(f"{where}: {my_layer} file uses src/{target_file} ({target_layer})")
                continue
            if graph:
                print(f"{top} ({my_layer}) -> {target_top} ({target_layer}): {where}")
            pair_ok = (top, target_top) in allow
            if RANK[target_layer] > RANK[my_layer] and not pair_ok:
                errors.append(f"{where}: upward import, {top} ({my_layer}) uses {target_top} ({target_layer})")
            elif (
                RANK[target_layer] == RANK[my_layer]
                and my_layer not in SAME_LAYER_OK
                and not pair_ok
            ):
                errors.append(
                    f"{where}: {top} and {target_top} are both {my_layer} and may not use each other "
                    "(add an 'allow' row with a reason if this is sound)"
                )

        if my_layer == "L0":
            for n, l in lines:
                if FORBIDDEN.search(l):
                    shown = source.split("\n")[n - 1].strip()
                    errors.append(f"src/{rel}:{n}: I/O, async, clock or logging in L0: {shown}")

    # The crate doc's layer table (src/lib.rs) must say the same.
    rows = {}
    for l in open(os.path.join(SRC, "lib.rs")).read().split("\n"):
        m = re.match(r"//! \| (L[0-3]) ", l)
        if m:
            cell = l.split("|")[2]
            rows[m.group(1)] = {w.removesuffix(".rs") if "/" not in w else w for w in re.findall(r"`([\w/.]+)`", cell)}
    for name, layer in list(modules.items()) + list(file_layers.items()):
        exists = name in known if "/" in name else name in tops
        if exists and name != "lib" and name not in rows.get(layer, set()):
            errors.append(f"src/lib.rs: the crate doc's layer table does not list `{name}` under {layer}")

    seen = set()
    errors = [e for e in errors if not (e in seen or seen.add(e))]
    for e in errors:
        print(f"layer violation: {e}")
    if errors:
        sys.exit(1)
    print("layers: OK")


if __name__ == "__main__":
    main()
