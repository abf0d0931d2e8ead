#!/usr/bin/env python3
"""Reads Korean report text on stdin; prints every term docs/ko/GLOSSARY.md says not to use (its
third column) that occurs, and exits 1 when there is any. One-syllable entries are skipped (they
occur inside other words: 널 in 채널)."""
import re
import sys

avoid = []
for line in open(sys.argv[1] if len(sys.argv) > 1 else "docs/ko/GLOSSARY.md", encoding="utf-8"):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 3 and cells[2] and not cells[2].startswith("---") and cells[2] != "쓰지 않는 말":
        for term in re.split(r"[,;]\s*", cells[2]):
            if "(" in term:   # a conditional entry ("증거 (판정 근거를 말할 때)") is for a reader, not a grep
                continue
            term = term.strip()
            if len(term) >= 2:
                avoid.append(term)
text = sys.stdin.read()
hits = [t for t in avoid if t in text]
if hits:
    print("terms the glossary avoids: " + ", ".join(hits))
    sys.exit(1)
