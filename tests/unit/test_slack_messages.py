"""Slack blocks for an alert: golden shape, hostile user text made inert, buttons only while open."""

import json

from detector.alerts.slack_messages import MAX_SAMPLE_CHARS, alert_blocks, alert_text, escape

ADMIN = "https://admin.example/"
LINK = "https://admin.example/cluster?id=7"
HOSTILE = "<!channel> <@U123> & <https://evil.example|click> 급매!!"


def summary(**overrides) -> dict:
    base = {"content_type": "listing", "cluster_id": 7, "size": 12, "distinct_authors": 4,
            "growth": {"window_minutes": 60, "added": 9}, "new_account_share": 0.75, "rule": "growth",
            "level": 2, "samples": [{"post_id": i, "external_id": f"p{i}", "author": f"seller{i}",
                                     "text": f"아이폰 급처 {i}"} for i in range(7)]}
    base.update(overrides)
    return base


def test_open_alert_golden():
    blocks = alert_blocks(42, summary(samples=summary()["samples"][:2]), "open", ADMIN)
    assert blocks == [
        {"type": "header", "text": {"type": "plain_text", "emoji": True,
                                    "text": "🚨 Possible professional seller · alert #42"}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": "*Namespace*\nlisting"},
            {"type": "mrkdwn", "text": "*Size*\n12 posts"},
            {"type": "mrkdwn", "text": "*Growth*\n+9 in 60 min"},
            {"type": "mrkdwn", "text": "*Distinct authors*\n4"},
            {"type": "mrkdwn", "text": "*New-account share*\n75%"},
            {"type": "mrkdwn", "text": "*Rule*\ngrowth (level 2)"}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Sample posts*\n"
                                     "• *seller0* (p0): 아이폰 급처 0\n• *seller1* (p1): 아이폰 급처 1"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"<{LINK}|Open cluster #7 in the admin UI>"}},
        {"type": "actions", "block_id": "alert_actions", "elements": [
            {"type": "button", "action_id": "alert_confirm", "style": "danger", "value": "42",
             "text": {"type": "plain_text", "text": "Confirm abuse"},
             "confirm": {"title": {"type": "plain_text", "text": "Confirm abuse?"},
                         "text": {"type": "mrkdwn",
                                  "text": "Every author in this cluster will be sanctioned."},
                         "confirm": {"type": "plain_text", "text": "Confirm"},
                         "deny": {"type": "plain_text", "text": "Cancel"}}},
            {"type": "button", "action_id": "alert_benign", "value": "42",
             "text": {"type": "plain_text", "text": "Benign"}},
            {"type": "button", "action_id": "alert_open", "value": "42", "url": LINK,
             "text": {"type": "plain_text", "text": "Open"}}]},
    ]
    assert alert_text(summary()) == "Seller cluster in listing: 12 posts from 4 accounts, +9 in 60 min"


def test_hostile_text_is_escaped_everywhere():
    hostile = summary(content_type=HOSTILE, rule=HOSTILE,
                      samples=[{"post_id": 1, "external_id": HOSTILE, "author": HOSTILE, "text": HOSTILE}])
    blocks = alert_blocks(1, hostile, "confirmed", ADMIN, decided_by=HOSTILE)
    rendered = json.dumps(blocks, ensure_ascii=False) + alert_text(hostile)
    assert "<!channel>" not in rendered and "<@U123>" not in rendered and "<https://evil" not in rendered
    assert "&lt;!channel&gt; &lt;@U123&gt; &amp; &lt;https://evil.example|click&gt;" in rendered
    assert " & " not in rendered.replace(" &amp; ", "")  # no bare ampersand survives
    # the only link markup left is our own admin link
    assert rendered.count("<https://") == 1


def test_long_texts_are_cut_and_samples_capped():
    long_text = "가" * 5000 + " <!here>"
    blocks = alert_blocks(3, summary(samples=[{"post_id": i, "external_id": "x" * 500, "author": "a" * 500,
                                               "text": long_text} for i in range(9)]), "open", ADMIN)
    samples = blocks[2]["text"]["text"]
    assert samples.count("\n• ") == 5  # five sample lines after the title
    assert "<!here>" not in samples and len(samples) < 3000
    first = samples.splitlines()[1]
    assert first.endswith("…") and first.count("가") == MAX_SAMPLE_CHARS - 1
    assert escape("a & b" * 100, 10) == "a &amp; ba &amp;…"  # cut before escaping: no half entities


def test_decided_alert_has_no_buttons_but_a_context_line():
    for status, label in (("confirmed", "✅ Confirmed abuse by slack:U123 (kim)"),
                          ("benign", "☑️ Marked benign by slack:U123 (kim)"),
                          ("escalated", "⚠️ Escalated by slack:U123 (kim)")):
        blocks = alert_blocks(5, summary(), status, ADMIN, decided_by="slack:U123 (kim)")
        assert [b["type"] for b in blocks][-1] == "context"
        assert not any(b["type"] == "actions" for b in blocks)
        assert blocks[-1]["elements"][0]["text"] == label
    assert alert_blocks(5, summary(), "confirmed", ADMIN)[-1]["elements"][0]["text"] == "✅ Confirmed abuse"


def test_missing_or_malformed_summary_fields_do_not_break_rendering():
    blocks = alert_blocks(9, {"size": "12; DROP", "cluster_id": "<!channel>", "samples": "nope",
                              "new_account_share": None}, "open", ADMIN)
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert "*Size*\n? posts" in fields and "*New-account share*\nn/a" in fields
    assert [b["type"] for b in blocks] == ["header", "section", "actions"]  # no samples, no link
    assert [e["action_id"] for e in blocks[-1]["elements"]] == ["alert_confirm", "alert_benign"]
