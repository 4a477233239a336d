"""The HTML page: one file, its style inline, every picture a data: URI.

Nothing on the page refers to the network (no fonts, scripts or style
sheets from elsewhere), so the file reads the same offline, attached to an
e-mail or years later.
"""
import datetime
import html
from dataclasses import dataclass, field


@dataclass
class Picture:
    uri: str        # data:image/png;base64,...
    alt: str
    caption: str = ""


@dataclass
class Section:
    key: str        # the anchor id
    title: str
    intro: str      # plain text: what the pictures show and how to read them
    pictures: list = field(default_factory=list)
    notes: list = field(default_factory=list)   # plain-text remarks under the pictures


CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d8dee4; --accent: #0b63ce; --paper: #ffffff; --bg: #f4f6f8; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { background: #14213d; color: #fff; padding: 28px 0 22px; }
.wrap { max-width: 1040px; margin: 0 auto; padding: 0 24px; }
header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; letter-spacing: -0.01em; }
header .sub { color: #c9d3e3; font-size: 14px; }
.facts { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 18px; }
.fact { background: rgba(255,255,255,0.08); border: 1px solid rgba(255,255,255,0.16); border-radius: 8px;
        padding: 8px 14px; min-width: 120px; }
.fact .label { font-size: 12px; color: #c9d3e3; text-transform: uppercase; letter-spacing: 0.04em; }
.fact .value { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
nav { margin: 22px 0 6px; font-size: 14px; display: flex; flex-wrap: wrap; gap: 6px 18px; }
nav a { color: var(--accent); text-decoration: none; white-space: nowrap; }
nav a:hover { text-decoration: underline; }
section { background: var(--paper); border: 1px solid var(--line); border-radius: 10px; margin: 18px 0;
          padding: 20px 24px 18px; }
section h2 { margin: 0 0 6px; font-size: 20px; font-weight: 620; }
section p.intro { margin: 0 0 14px; color: var(--muted); max-width: 78ch; }
figure { margin: 10px 0 16px; text-align: center; }
figure img { max-width: 100%; height: auto; border-radius: 4px; }
figcaption { font-size: 13.5px; color: var(--muted); margin-top: 4px; }
ul.notes { font-size: 14px; color: var(--muted); margin: 4px 0 0; padding-left: 20px; }
footer { color: var(--muted); font-size: 13px; padding: 10px 0 36px; }
"""


def _esc(text):
    return html.escape(str(text), quote=True)


def _section_html(s):
    parts = [f'<section id="{_esc(s.key)}">', f"<h2>{_esc(s.title)}</h2>", f'<p class="intro">{_esc(s.intro)}</p>']
    for p in s.pictures:
        caption = f"<figcaption>{_esc(p.caption)}</figcaption>" if p.caption else ""
        parts.append(f'<figure><img src="{p.uri}" alt="{_esc(p.alt)}">{caption}</figure>')
    if s.notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{_esc(n)}</li>" for n in s.notes) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def render(title, subtitle, facts, sections):
    """The whole page as a string. facts: (label, value) pairs for the header."""
    fact_html = "".join(f'<div class="fact"><div class="label">{_esc(k)}</div><div class="value">{_esc(v)}</div></div>'
                        for k, v in facts)
    nav = "".join(f'<a href="#{_esc(s.key)}">{_esc(s.title)}</a>' for s in sections)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(_section_html(s) for s in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header><div class="wrap">
<h1>{_esc(title)}</h1>
<div class="sub">{_esc(subtitle)}</div>
<div class="facts">{fact_html}</div>
</div></header>
<main class="wrap">
<nav>{nav}</nav>
{body}
</main>
<footer class="wrap">Written by glassnet on {stamp}. Self-contained: every picture is embedded in this file.</footer>
</body>
</html>
"""
