#!/usr/bin/env python3
"""How much of the SQLite backend is written again in the PostgreSQL one.

For each module the two backends both have (sqlite/X.rs ~ postgres/X.rs),
counts the SQLite code lines that have a near-identical twin in the
PostgreSQL module, after normalising what differs by driver only:
placeholders (?1 / $1), `.await` and `async`, row access (`r.get::<_, T>(0)?`),
the connection's name and type. Blank lines, comments, `use` lines and lines
of punctuation or a lone keyword are not counted. Migrations (SQL) are not
Rust and are left out: dialect SQL may stay twice.

    bench/twins/measure.py [crates/store/src]
"""
import collections
import difflib
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "crates/store/src")


def normalise(line: str) -> str:
    s = line.strip()
    s = re.sub(r"\.await", "", s)
    s = re.sub(r"\basync\s+", "", s)
    s = re.sub(r"[?$]\d+", "?", s)
    s = re.sub(r"\.get::<_,\s*[^>]+>\((\d+)\)\??", r".get(\1)", s)
    s = re.sub(r"\.get\((\d+)\)\?", r".get(\1)", s)
    s = re.sub(r"\b(conn|tx|client|c)\b", "db", s)
    s = re.sub(r"&Connection|&Tx<'_>|&mut Transaction<'_>|&Transaction<'_>", "DB", s)
    s = re.sub(r"\s+", " ", s)
    return s


def counted(line: str) -> bool:
    s = line.strip()
    if not s or s.startswith("//") or s.startswith("use ") or s.startswith("#["):
        return False
    core = re.sub(r"[\s{}()\[\];,?.&|]", "", s)
    return len(core) >= 6 and core not in {"Ok", "else", "return", "match", "Some", "None", "break", "continue"}


def code_lines(path: pathlib.Path, with_sql: bool):
    """Normalised code lines; without `with_sql`, lines of SQL text (inside a
    string literal, or a line that opens one with a statement) are left out."""
    in_tests = False
    in_string = False
    for line in path.read_text().splitlines():
        if line.startswith("#[cfg(test)]"):
            in_tests = True
        quotes = len(re.findall(r'(?<!\\)"', line))
        sql = in_string or re.search(r'"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|PRAGMA)\b', line)
        if quotes % 2 == 1:
            in_string = not in_string
        if in_tests or not counted(line) or (sql and not with_sql):
            continue
        yield normalise(line)


def near(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.9



def measure(with_sql: bool):
    total = twins = 0
    rows = []
    for sqlite in sorted((root / "sqlite").glob("*.rs")):
        pg = root / "postgres" / sqlite.name
        if not pg.exists():
            continue
        left = list(code_lines(sqlite, with_sql))
        right = list(code_lines(pg, with_sql))
        exact = collections.Counter(right)
        unmatched = []
        same = 0
        for line in left:
            if exact[line] > 0:
                exact[line] -= 1
                same += 1
            else:
                unmatched.append(line)
        rest = [line for line in right if exact[line] > 0 and not exact.subtract([line])]
        for line in unmatched:
            for i, other in enumerate(rest):
                if near(line, other):
                    del rest[i]
                    same += 1
                    break
        rows.append((sqlite.name, len(left), same))
        total += len(left)
        twins += same
    everything = sum(len(list(code_lines(p, with_sql))) for p in (root / "sqlite").glob("*.rs"))
    return rows, twins, everything


for with_sql, title in ((True, "every code line"), (False, "SQL text left out")):
    rows, twins, everything = measure(with_sql)
    print(f"== {title}")
    for name, n, same in rows:
        print(f"{name:16} {same:5} of {n:5} lines have a twin ({100 * same / max(n, 1):5.1f} %)")
    print(f"twin measure ({title}): {twins} of {everything} SQLite code lines ({100 * twins / max(everything, 1):.1f} %)")
