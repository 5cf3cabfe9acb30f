#!/usr/bin/env python3
"""Structure figures of src/ for review notes: String errors, long functions, pub items,
file-level import cycles (from code, not doc comments). Test code (tests.rs, *_tests.rs, fixture/fake files and inline
`#[cfg(test)] mod … {}` blocks) is left out.

Usage: python3 scripts/metrics.py [--src DIR]
"""
import os
import re
import sys
from collections import defaultdict

SRC = sys.argv[sys.argv.index("--src") + 1] if "--src" in sys.argv else "src"
TEST_FILES = re.compile(r"(^|/)(tests|[a-z_]+_tests|fixture|fake)\.rs$|/tests/")


def strip_tests(text):
    """Non-test lines: drops `#[cfg(test)]` items (a `mod x;` line or a braced block)."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        if lines[i].strip().startswith("#[cfg(test)]"):
            j = i + 1
            if lines[j].rstrip().endswith(";"):
                i = j + 1
                continue
            depth, started = 0, False
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                started = started or "{" in lines[j]
                j += 1
                if started and depth <= 0:
                    break
            i = j
            continue
        out.append(lines[i])
        i += 1
    return out


def files():
    for root, _, names in os.walk(SRC):
        for n in sorted(names):
            p = os.path.join(root, n)
            if p.endswith(".rs") and not TEST_FILES.search(p):
                yield p


def functions(lines):
    """(name, length) of every fn with a body, by brace matching."""
    fn_re = re.compile(r"^\s*(pub(\([a-z:]+\))? )?(async )?(const )?fn (\w+)")
    i = 0
    while i < len(lines):
        m = fn_re.match(lines[i])
        if not m:
            i += 1
            continue
        depth, started, j = 0, False, i
        while j < len(lines):
            code = re.sub(r'"([^"\\]|\\.)*"', '""', lines[j].split("//")[0])
            depth += code.count("{") - code.count("}")
            started = started or "{" in code
            if started and depth <= 0:
                break
            if not started and code.rstrip().endswith(";"):
                break
            j += 1
        if started:
            yield m.group(5), j - i + 1
        i += 1


def module_of(path):
    rel = os.path.relpath(path, SRC)[:-3]
    parts = rel.split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts)


def main():
    string_results = map_err_to_string = pub_items = all_string = 0
    long_fns = []
    graph = defaultdict(set)
    mods = {module_of(p): p for p in files()}
    for path in files():
        lines = strip_tests(open(path).read())
        text = "\n".join(lines)
        all_string += len(re.findall(r"Result<[^;{]*?,\s*String>", text))
        in_uc = re.search(r"/(failover|switch)/", path)
        if in_uc:
            string_results += len(re.findall(r"Result<[^;{]*?,\s*String>", text))
            map_err_to_string += len(re.findall(r"map_err\(\|e\| e\.to_string\(\)\)", text))
        pub_items += len(re.findall(r"^\s*pub (async )?(fn|struct|enum|trait|const|type|mod|use|static)\b", text, re.M))
        for name, n in functions(lines):
            if n > 100:
                long_fns.append((n, f"{path}::{name}"))
        me = module_of(path)
        code = "\n".join(l for l in lines if not l.lstrip().startswith("//"))
        for m in re.finditer(r"(crate|super)::([a-z_]+(::[a-z_]+)*)", code):
            root, rest = m.group(1), m.group(2).split("::")
            if root == "super":
                base = me.split("::")
                base = base[:-1] if not path.endswith("mod.rs") else base[:-1]
                cand = base + rest
            else:
                cand = rest
            while cand and "::".join(cand) not in mods:
                cand = cand[:-1]
            target = "::".join(cand)
            if cand and target != me and not me.startswith(target + "::") and not target.startswith(me + "::"):
                graph[me].add(target)
    cycles = sccs(graph)
    top = defaultdict(set)
    for a, bs in graph.items():
        for b in bs:
            ta, tb = a.split("::")[0], b.split("::")[0]
            if ta != tb:
                top[ta].add(tb)
    top_cycles = sccs(top)
    print(f"Result<_, String> in failover/ and switch/ (non-test): {string_results}")
    print(f"Result<_, String> in all of src/ (non-test): {all_string}")
    print(f"map_err(|e| e.to_string()) in failover/ and switch/: {map_err_to_string}")
    print(f"pub items (non-test): {pub_items}")
    print(f"functions over 100 lines: {len(long_fns)}; over 150: {sum(1 for n, _ in long_fns if n > 150)}")
    for n, f in sorted(long_fns, reverse=True):
        print(f"  {n:4} {f}")
    print(f"file-level import cycles: {len(cycles)}")
    for c in cycles:
        print("  " + " <-> ".join(sorted(c)))
    print(f"top-level module cycles: {len(top_cycles)}")
    for c in top_cycles:
        print("  " + " <-> ".join(sorted(c)))


def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    main()
