#!/usr/bin/env python3
"""Renders a report.html in headless Chromium and checks that it shows what it should:
no console messages at warning level or above (errors in the page), no request leaving the
machine (the page must work offline), every figure drawn and not blank.
Usage: render_check.py REPORT.html SCREENSHOT.png MIN_FIGURES
Exit 0 when all checks pass; otherwise prints what failed and exits 1.
"""
import os
import re
import subprocess
import sys
import tempfile

from PIL import Image

html, shot, min_figures = sys.argv[1], sys.argv[2], int(sys.argv[3])
failures = []
page = open(html, encoding="utf-8").read()

# 1. Offline: no external resources referenced (scripts, styles, images, fonts, frames).
for m in re.finditer(r'(?:src|href)\s*=\s*"([^"]+)"', page):
    url = m.group(1)
    if re.match(r"^[a-z]+://", url) and not url.startswith("file://"):
        failures.append(f"external resource referenced: {url}")
if re.search(r"@import|url\(\s*['\"]?https?:", page):
    failures.append("the stylesheet fetches something from the network")

# 2. Figures: count inline SVGs and check each has drawn content.
svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
if len(svgs) < min_figures:
    failures.append(f"{len(svgs)} inline figures, expected at least {min_figures}")
for i, s in enumerate(svgs):
    drawn = len(re.findall(r"<(?:path|polyline|polygon|rect|circle|line|use|image)\b", s))
    if drawn < 5:
        failures.append(f"figure {i} has only {drawn} drawing elements")

# 3. Render it: console messages and a full-page screenshot.
with tempfile.TemporaryDirectory() as profile:
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
           "--window-size=1400,2400", f"--screenshot={shot}",
           "--virtual-time-budget=5000", "file://" + os.path.abspath(html)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
log = proc.stderr
console = [l for l in log.splitlines() if ":CONSOLE" in l]
if console:
    failures.append("console messages: " + " | ".join(console[:5]))
if proc.returncode != 0 or not os.path.exists(shot):
    failures.append(f"chromium failed (exit {proc.returncode}): {log[-500:]}")
else:
    img = Image.open(shot).convert("RGB")
    # Not blank: within the area the page draws on (the bounding box of its non-white pixels),
    # a good share of non-white pixels and many distinct colours (plots, not text only).
    box = Image.eval(img.convert("L"), lambda v: 255 if v < 235 else 0).getbbox()
    if box:
        img = img.crop(box)
    w, h = img.size
    small = img.resize((max(1, w // 4), max(1, h // 4)))
    px = list(small.getdata())
    non_white = sum(1 for p in px if min(p) < 235) / len(px)
    colours = len(set(px))
    print(f"render_check: {html}: {len(svgs)} figures, screenshot {w}x{h}, "
          f"{non_white:.1%} non-white, {colours} colours, {len(console)} console messages")
    if non_white < 0.03:
        failures.append(f"screenshot is nearly blank ({non_white:.1%} non-white pixels)")
    if colours < 300:
        failures.append(f"screenshot has only {colours} colours: no plots rendered?")

if failures:
    for f in failures:
        print("render_check: FAIL:", f)
    sys.exit(1)
