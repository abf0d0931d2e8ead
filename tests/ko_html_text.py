#!/usr/bin/env python3
"""Reads an HTML report on stdin and prints its visible text (style and script dropped, tags
removed, entities decoded), for tests/ko_latin.py."""
import html
import re
import sys

t = sys.stdin.read()
t = re.sub(r"<(style|script)\b.*?</\1>", " ", t, flags=re.S | re.I)
t = re.sub(r"<title>.*?</title>", " ", t, flags=re.S | re.I)
t = re.sub(r"<[^>]*>", " ", t)
print(html.unescape(t))
