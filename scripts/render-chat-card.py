#!/usr/bin/env python3
"""Renders backup-guard chat cards (AWS Chatbot custom notifications) as one self-contained
HTML page: an approximation of how a Slack channel shows them, for docs/CHAT.md.

    python3 scripts/render-chat-card.py docs/chat-card-guard.json docs/chat-card-digest.json \
        > docs/chat-card-example.html

Standard library only, no external assets (fonts, images, scripts). The card's text is chat
markdown (Slack mrkdwn): *bold*, _italic_, ~strike~, `code`, and &amp; &lt; &gt; entities;
emoji short codes are drawn as small badges (no emoji font is needed). Zero-width spaces the
product inserts to break emphasis and mentions are honoured: a marker followed by one does not
format, as in Slack.
"""

from __future__ import annotations

import html
import json
import re
import sys

ZWSP = "\u200b"

# Emoji short codes the cards use -> (badge colour, glyph in DejaVu Sans).
EMOJI = {
    ":rotating_light:": ("#e01e5a", "!"),
    ":red_circle:": ("#d0312d", "●"),
    ":warning:": ("#ecb22e", "⚠"),
    ":information_source:": ("#1d9bd1", "i"),
    ":white_check_mark:": ("#2eb67d", "✔"),
}

# Left border colour of the attachment, by the first keyword (the severity).
SEVERITY_COLOUR = {
    "critical": "#e01e5a",
    "high": "#d0312d",
    "warning": "#ecb22e",
    "info": "#1d9bd1",
    "ok": "#2eb67d",
}


def mrkdwn(text: str) -> str:
    """Slack mrkdwn to HTML: entities decoded then re-escaped, code spans kept verbatim,
    emphasis only where the opening marker is not followed by a zero-width space."""
    raw = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    out = []
    # Split out code spans first: nothing inside them is formatted.
    for i, part in enumerate(re.split(r"(`[^`\n]*`)", raw)):
        if i % 2 == 1:
            out.append("<code>" + html.escape(part[1:-1].replace(ZWSP, "")) + "</code>")
            continue
        s = html.escape(part, quote=False)
        for marker, tag in (("*", "b"), ("_", "i"), ("~", "s")):
            m = re.escape(marker)
            s = re.sub(
                rf"(?<![\w{m}]){m}(?![\s{ZWSP}{m}])([^{m}\n]*?[^\s{ZWSP}{m}]){m}(?![\w])",
                rf"<{tag}>\1</{tag}>",
                s,
            )
        for code, (colour, glyph) in EMOJI.items():
            s = s.replace(
                code,
                f'<span class="emoji" style="background:{colour}">{html.escape(glyph)}</span>',
            )
        out.append(s.replace(ZWSP, ""))
    return "".join(out)


def card_html(card: dict) -> str:
    content = card.get("content", {})
    meta = card.get("metadata", {})
    keywords = content.get("keywords", [])
    colour = SEVERITY_COLOUR.get(keywords[0] if keywords else "", "#868686")
    lines = content.get("description", "").split("\n")
    description = "<br>".join(mrkdwn(line) for line in lines)
    steps = "".join(f"<li>{mrkdwn(s)}</li>" for s in content.get("nextSteps", []))
    tags = "".join(f'<span class="tag">{html.escape(k)}</span>' for k in keywords)
    related = "".join(
        f"<li><code>{html.escape(r)}</code></li>" for r in meta.get("relatedResources", [])
    )
    parts = [
        '<div class="message"><div class="avatar">Q</div><div class="body">',
        '<div class="sender">Amazon Q <span class="app">APP</span>'
        ' <span class="time">12:00</span></div>',
        f'<div class="attachment" style="border-left-color:{colour}">',
        f'<div class="title">{mrkdwn(content.get("title", ""))}</div>',
        f'<div class="description">{description}</div>',
    ]
    if steps:
        parts.append(f'<div class="section">Next steps</div><ol class="steps">{steps}</ol>')
    if tags:
        parts.append(f'<div class="tags">{tags}</div>')
    parts.append("</div>")
    parts.append(
        '<details><summary>metadata (not shown by Chatbot)</summary>'
        f'<div class="meta">eventType <code>{html.escape(meta.get("eventType", ""))}</code>'
        f' · threadId <code>{html.escape(meta.get("threadId", "none"))}</code>'
        f'<br>summary: {html.escape(meta.get("summary", ""))}'
        f"<ul>{related}</ul></div></details>"
    )
    parts.append("</div></div>")
    return "\n".join(parts)


STYLE = """
body { font-family: 'DejaVu Sans', Lato, Arial, sans-serif; font-size: 15px; color: #1d1c1d;
       background: #fff; margin: 0; padding: 16px 20px; }
h1 { font-size: 18px; margin: 0 0 4px; }
p.note { color: #616061; font-size: 13px; margin: 0 0 16px; }
.channel { border-bottom: 1px solid #ddd; font-weight: bold; padding-bottom: 8px;
           margin-bottom: 12px; }
.message { display: flex; margin: 0 0 22px; }
.avatar { width: 36px; height: 36px; border-radius: 6px; background: #232f3e; color: #fff;
          font-weight: bold; display: flex; align-items: center; justify-content: center;
          flex: none; margin-right: 10px; }
.body { flex: 1; min-width: 0; }
.sender { font-weight: bold; margin-bottom: 4px; }
.app { font-size: 10px; background: #e8e8e8; color: #616061; padding: 1px 3px;
       border-radius: 2px; vertical-align: middle; }
.time { font-weight: normal; color: #616061; font-size: 12px; }
.attachment { border-left: 4px solid #868686; padding: 2px 0 2px 12px; }
.title { font-weight: bold; margin-bottom: 6px; }
.description { line-height: 1.45; overflow-wrap: anywhere; }
.section { font-weight: bold; margin-top: 10px; }
.steps { margin: 4px 0 0; padding-left: 22px; line-height: 1.45; }
.tags { margin-top: 10px; }
.tag { display: inline-block; font-size: 12px; background: #f0f0f0; border: 1px solid #ddd;
       border-radius: 10px; padding: 0 8px; margin: 0 4px 4px 0; }
code { font-family: 'DejaVu Sans Mono', monospace; font-size: 12px; color: #c01343;
       background: #f6f6f6; border: 1px solid #e0e0e0; border-radius: 3px; padding: 0 2px; }
.emoji { display: inline-block; width: 18px; height: 18px; line-height: 18px;
         border-radius: 9px; color: #fff; text-align: center; font-size: 12px;
         font-weight: bold; vertical-align: -3px; }
details { margin-top: 8px; font-size: 12px; color: #616061; }
.meta ul { margin: 4px 0; padding-left: 18px; }
"""


def page(cards: list[dict]) -> str:
    body = "\n".join(card_html(c) for c in cards)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>backup-guard chat cards</title>"
        f"<style>{STYLE}</style></head><body>\n"
        "<h1>backup-guard in a chat channel (preview)</h1>\n"
        "<p class=\"note\">Rendered by scripts/render-chat-card.py from the cards in "
        "docs/chat-card-*.json: an approximation of Slack's rendering of AWS Chatbot "
        "custom notifications, not a screenshot of Slack.</p>\n"
        "<div class=\"channel\"># backup-alerts</div>\n"
        f"{body}\n</body></html>\n"
    )


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cards = []
    for path in argv[1:]:
        with open(path, encoding="utf-8") as f:
            card = json.load(f)
        if card.get("version") != "1.0" or card.get("source") != "custom":
            print(f"{path}: not a custom notification (version 1.0, source custom)", file=sys.stderr)
            return 1
        cards.append(card)
    sys.stdout.write(page(cards))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
