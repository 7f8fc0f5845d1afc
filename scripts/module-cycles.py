#!/usr/bin/env python3
"""Finds import circles between sibling modules of a crate (`crate::a::b` and `super::x` uses).

Usage: scripts/module-cycles.py <crate>/src ...  Exits 1 and prints each circle when one exists.
Tests (`tests.rs`, `tests/`, and what follows `#[cfg(test)]` in a file) are ignored: they
may reach anywhere in their parent.
"""
import os, re, sys

def module_of(root, path):
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return rel

def refs(text, here):
    found = set()
    text = re.sub(r"//[^\n]*", "", text)
    for m in re.finditer(r"\bcrate((?:::[a-z_][a-z0-9_]*)+)", text):
        found.add(tuple(m.group(1).strip(":").split("::")))
    # `super` is the parent of the module, whether it lives in `foo.rs` or `foo/mod.rs`.
    base = here
    for m in re.finditer(r"\b((?:super::)+)([a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)*)", text):
        ups = m.group(1).count("super")
        parent = base[: len(base) - ups] if ups <= len(base) else []
        found.add(tuple(parent + m.group(2).split("::")))
    # `use super::{a, b}` / `use crate::x::{a, b}`
    for m in re.finditer(r"use\s+((?:crate|super(?:::super)*)((?:::[a-z_][a-z0-9_]*)*))::\{([^}]*)\}", text):
        head = m.group(1)
        if head.startswith("crate"):
            prefix = [p for p in head.split("::")[1:] if p]
        else:
            ups = head.count("super")
            prefix = base[: len(base) - ups] + [p for p in head.split("::") if p and p != "super"]
        for item in m.group(3).split(","):
            name = item.strip().split("::")[0].split(" ")[0]
            if re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name != "self":
                found.add(tuple(prefix + [name]))
    return found

def main():
    edges = {}
    for root in sys.argv[1:]:
        crate = root.rstrip("/").split("/")[-2]
        for dirpath, _, files in os.walk(root):
            for f in files:
                if not f.endswith(".rs"):
                    continue
                path = os.path.join(dirpath, f)
                here = module_of(root, path)
                if "tests" in here or f.endswith("_tests.rs"):
                    continue
                text = open(path, encoding="utf-8").read()
                # Inline unit tests sit at the end of a file, after `#[cfg(test)]`: like
                # tests.rs files, they may reach anywhere.
                text = text.split("#[cfg(test)]", 1)[0]
                for target in refs(text, here):
                    # The sibling pair: first level where the two paths differ.
                    i = 0
                    while i < min(len(here), len(target)) and here[i] == target[i]:
                        i += 1
                    if i >= len(here) or i >= len(target):
                        continue  # an ancestor or a descendant: not a sibling edge
                    a, b = tuple(here[: i + 1]), tuple(target[: i + 1])
                    edges.setdefault((crate, a), set()).add((crate, b))
    cycles = set()
    for (a, targets) in edges.items():
        for b in targets:
            if a in edges.get(b, set()):
                cycles.add(tuple(sorted(["::".join(a[1]), "::".join(b[1])])) + (a[0],))
    for x, y, crate in sorted(cycles):
        print(f"{crate}: {x} <-> {y}")
    return 1 if cycles else 0

sys.exit(main())
