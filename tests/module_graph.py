"""No import circle among the crate's modules: each file of src/ is a module, and a `use` of another module (by
`crate::`, `super::` or a child's name) outside `#[cfg(test)]` code is an edge, except a use of the module's
own ancestor. Exits 1 naming each cycle. (It found cfn::answer <-> cfn::event and limits <-> properties.)

Usage: module_graph.py [SRC] (default: src/ beside this file's parent).
"""

import re
import sys
from pathlib import Path


def module_of(path, src):
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def code_outside_tests(text):
    """The text without `#[cfg(test)]` items (a test module, or a test-only `mod x;` / `use`)."""
    out, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("#[cfg(test)]"):
            # Skip the next item: one line ending in ';', or a block up to its closing brace.
            j, depth = i + 1, 0
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                if depth <= 0 and (lines[j].rstrip().endswith(";") or lines[j].rstrip().endswith("}")):
                    break
                j += 1
            i = j + 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def uses(text):
    """Every path a `use` (or a `pub use`) names, brace groups expanded one level."""
    paths = []
    for m in re.finditer(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", text, re.M):
        body = re.sub(r"\s+", "", m.group(1))
        head, _, group = body.partition("{")
        if group:
            for item in group.rstrip("}").split(","):
                if item:
                    paths.append(head + item)
        else:
            paths.append(body)
    return paths


def main():
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "src"
    files = {module_of(p, src): p for p in src.rglob("*.rs")}
    modules = set(files)
    edges = {m: set() for m in modules}
    for m, p in files.items():
        is_dir_module = p.stem in ("mod", "lib", "main")  # its children are `child::`, its parent `super::`
        for path in uses(code_outside_tests(p.read_text())):
            parts = path.split("::")
            if parts[0] == "crate":
                target, rest = (), parts[1:]
            elif parts[0] == "super":
                target, rest = m[:-1], parts[1:]
                while rest and rest[0] == "super":
                    target, rest = target[:-1], rest[1:]
            elif parts[0] == "self":
                target, rest = m, parts[1:]
            elif is_dir_module and m + (parts[0],) in modules:
                target, rest = m, parts
            else:
                continue  # another crate
            for name in rest:  # the deepest module the path names
                if target + (name,) in modules:
                    target = target + (name,)
                else:
                    break
            # A module's use of its own ancestor (its constants, its re-exports) is not an edge: every ancestor
            # declares its children, so counting it would make every parent and child a cycle.
            if target != m and m[:len(target)] != target:
                edges[m].add(target)
    cycles, seen = [], set()

    def visit(node, stack):
        if node in stack:
            cycle = stack[stack.index(node):] + [node]
            key = frozenset(cycle)
            if key not in seen:
                seen.add(key)
                cycles.append(cycle)
            return
        for nxt in sorted(edges.get(node, ())):
            visit(nxt, stack + [node])

    for m in sorted(modules):
        visit(m, [])
    name = lambda t: "::".join(t) or "crate"
    for c in cycles:
        print("CYCLE " + " -> ".join(name(x) for x in c))
    print(f"module graph: {len(modules)} modules, {sum(map(len, edges.values()))} edges, {len(cycles)} cycles")
    sys.exit(1 if cycles else 0)


if __name__ == "__main__":
    main()
