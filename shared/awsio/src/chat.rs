//! Chat cards (pure): the custom notification format of AWS's chat integration for SNS (AWS
//! Chatbot, now "Amazon Q Developer in chat applications"), which the publisher sends as the
//! `https` variant of every message (Chatbot subscribes to a topic over HTTPS).
//!
//! The format (docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html):
//! `{"version": "1.0", "source": "custom", "id", "content": {"textType": "client-markdown",
//! "title", "description", "nextSteps": [...], "keywords": [...]}, "metadata": {"threadId",
//! "summary", "eventType", "relatedResources": [...], "additionalContext": {...}}}`. `version`
//! (must be `1.0`) and `source` (must be `custom`) are required; `client-markdown` is the only
//! text type, rendered in the chat platform's own markdown (Slack's mrkdwn, Teams' markdown).
//!
//! Text taken from tables, tags, AWS error messages or people ([`escape`]) cannot format the
//! card or mention anyone: `&`, `<`, `>` become entities (Slack's `<!channel>`, `<!here>`,
//! `<@U…>` and links need a literal `<`), an `@` before a word gets a zero-width space
//! after it (`@here`, `@channel`, `@someone` do not notify), backticks become `'`, and the
//! emphasis markers `*`, `_`, `~` are followed by a zero-width space so no pair encloses text
//! (`_` and `~` inside a word, as in `orders_prod`, cannot emphasise and are left alone).

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// The longest title, in characters (Chatbot's limit for `content.title`).
pub const MAX_TITLE_CHARS: usize = 250;
/// The longest description, in characters (Chatbot's limit for `content.description`).
pub const MAX_DESCRIPTION_CHARS: usize = 8000;
/// How many next steps a card carries at most (ours: a card lists what to do first; the
/// email and the JSON carry every step).
pub const MAX_NEXT_STEPS: usize = 5;
/// The longest next step, in characters (ours).
pub const MAX_NEXT_STEP_CHARS: usize = 500;
/// How many keywords a card carries at most (ours: they render as tags under the card).
pub const MAX_KEYWORDS: usize = 6;
/// The longest keyword, in characters (ours).
pub const MAX_KEYWORD_CHARS: usize = 40;
/// How many related resources (ARNs) a card names at most (ours).
pub const MAX_RELATED_RESOURCES: usize = 10;
/// The longest summary (the chat's push-notification line), in characters (ours).
pub const MAX_SUMMARY_CHARS: usize = 250;
/// The longest thread id, in characters (ours; an ARN fits).
pub const MAX_THREAD_ID_CHARS: usize = 256;
/// The longest value of `additionalContext`, in characters (ours).
pub const MAX_CONTEXT_VALUE_CHARS: usize = 256;

const ZWSP: char = '\u{200B}';

/// One card as Chatbot shows it in a channel. Text fields are chat markdown: callers escape
/// what they did not write themselves with [`escape`] (or put names in [`code`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChatCard {
    /// `id`: a unique identifier of the event (the CloudTrail event id, the verifier's run id).
    pub id: String,
    /// `content.title`: severity and what happened, markdown (emoji allowed).
    pub title: String,
    /// `content.description`: the short markdown body.
    pub description: String,
    /// `content.nextSteps`: what a human must do, most important first.
    pub next_steps: Vec<String>,
    /// `content.keywords`: tags shown under the card (severity, finding codes, mode).
    pub keywords: Vec<String>,
    /// `metadata.threadId`: cards with the same thread id are grouped in one chat thread
    /// (when the channel's preferences allow it).
    pub thread_id: Option<String>,
    /// `metadata.summary`: a one-line summary (the email subject).
    pub summary: String,
    /// `metadata.eventType`: what kind of card this is (`backup-guard.table-guard`, ...).
    pub event_type: String,
    /// `metadata.relatedResources`: the ARNs the card is about (tables, restore plans).
    pub related_resources: Vec<String>,
    /// `metadata.additionalContext`: plain key/value facts (account, region, mode, ids).
    pub additional_context: BTreeMap<String, String>,
}

/// Escapes text for chat markdown so that it shows as written: it cannot format the card,
/// build a link or mention anyone (see the module's documentation).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' => out.push('\''),
            // Inside a word (`orders_prod`) `_` and `~` cannot open or close emphasis; `*`
            // can (CommonMark), so it always gets the zero-width space.
            '_' | '~'
                if prev.is_some_and(char::is_alphanumeric)
                    && chars.peek().is_some_and(|n| n.is_alphanumeric()) =>
            {
                out.push(c)
            }
            '*' | '_' | '~' => {
                out.push(c);
                out.push(ZWSP);
            }
            '@' => {
                out.push('@');
                if chars
                    .peek()
                    .is_some_and(|n| n.is_alphanumeric() || *n == '!')
                {
                    out.push(ZWSP);
                }
            }
            // Line breaks inside one item would start a markdown block (list, quote).
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
        prev = Some(c);
    }
    out
}

/// A name shown as inline code: `` `orders` ``. Backticks in the name become `'` and the
/// name is otherwise [`escape`]d for `&`, `<`, `>` and mentions (a code span does not
/// format, but Slack still reads `<!here>` inside one).
pub fn code(name: &str) -> String {
    let inner: String = escape(name).chars().filter(|c| *c != ZWSP).collect();
    // Mentions stay broken: `@` before a word is followed by a zero-width space again.
    let mut out = String::from("`");
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '@'
            && chars
                .peek()
                .is_some_and(|n| n.is_alphanumeric() || *n == '!')
        {
            out.push(ZWSP);
        }
    }
    out.push('`');
    out
}

/// `text` cut to at most `max` characters: whole lines when the last line break leaves at
/// least half, else at a character, ending with `…`. Never cuts inside an `&…;` entity.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(1);
    let mut end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
    let head = &text[..end];
    if let Some(nl) = head.rfind('\n')
        && head[..nl].chars().count() >= keep / 2
    {
        end = nl;
    } else if let Some(amp) = head.rfind('&')
        && !head[amp..].contains(';')
    {
        end = amp;
    }
    format!("{}…", text[..end].trim_end())
}

impl ChatCard {
    /// The custom notification document, every field within the limits above: the title
    /// and description are cut ([`cut`]), lists are shortened, empty optional fields left out.
    pub fn to_json(&self) -> Value {
        let mut content = serde_json::Map::new();
        content.insert("textType".into(), json!("client-markdown"));
        content.insert("title".into(), json!(cut(&self.title, MAX_TITLE_CHARS)));
        content.insert(
            "description".into(),
            json!(cut(&self.description, MAX_DESCRIPTION_CHARS)),
        );
        let steps: Vec<String> = self
            .next_steps
            .iter()
            .filter(|s| !s.trim().is_empty())
            .take(MAX_NEXT_STEPS)
            .map(|s| cut(s, MAX_NEXT_STEP_CHARS))
            .collect();
        if !steps.is_empty() {
            content.insert("nextSteps".into(), json!(steps));
        }
        let mut keywords: Vec<String> = Vec::new();
        for k in &self.keywords {
            let k = cut(k.trim(), MAX_KEYWORD_CHARS);
            if !k.is_empty() && !keywords.contains(&k) && keywords.len() < MAX_KEYWORDS {
                keywords.push(k);
            }
        }
        if !keywords.is_empty() {
            content.insert("keywords".into(), json!(keywords));
        }
        let mut metadata = serde_json::Map::new();
        if let Some(t) = self.thread_id.as_deref().filter(|t| !t.is_empty()) {
            metadata.insert("threadId".into(), json!(cut(t, MAX_THREAD_ID_CHARS)));
        }
        metadata.insert(
            "summary".into(),
            json!(cut(&self.summary, MAX_SUMMARY_CHARS)),
        );
        metadata.insert("eventType".into(), json!(self.event_type));
        let mut related: Vec<&str> = Vec::new();
        for r in &self.related_resources {
            if !r.is_empty() && !related.contains(&r.as_str()) {
                related.push(r);
            }
        }
        related.truncate(MAX_RELATED_RESOURCES);
        if !related.is_empty() {
            metadata.insert("relatedResources".into(), json!(related));
        }
        if !self.additional_context.is_empty() {
            let ctx: BTreeMap<&str, String> = self
                .additional_context
                .iter()
                .map(|(k, v)| (k.as_str(), cut(v, MAX_CONTEXT_VALUE_CHARS)))
                .collect();
            metadata.insert("additionalContext".into(), json!(ctx));
        }
        let mut doc = serde_json::Map::new();
        doc.insert("version".into(), json!("1.0"));
        doc.insert("source".into(), json!("custom"));
        if !self.id.is_empty() {
            doc.insert("id".into(), json!(self.id));
        }
        doc.insert("content".into(), Value::Object(content));
        doc.insert("metadata".into(), Value::Object(metadata));
        Value::Object(doc)
    }
}

/// The emoji a card's title starts with for a severity word (`critical`, `high`, `warning`,
/// `info`; anything else, e.g. the digest's `ok`, is a check mark).
pub fn severity_emoji(severity: &str) -> &'static str {
    match severity {
        "critical" => ":rotating_light:",
        "high" => ":red_circle:",
        "warning" => ":warning:",
        "info" => ":information_source:",
        _ => ":white_check_mark:",
    }
}

/// Appends `line` (and a line break) to `out` if the result stays within `max` characters;
/// false (and `out` unchanged) otherwise. For descriptions built a whole line at a time.
pub fn push_line(out: &mut String, line: &str, max: usize) -> bool {
    if out.chars().count() + line.chars().count() + 1 > max {
        return false;
    }
    out.push_str(line);
    out.push('\n');
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> ChatCard {
        ChatCard {
            id: "e1".into(),
            title: ":rotating_light: CRITICAL `orders` not protected".into(),
            description: "line".into(),
            next_steps: vec!["Tag it.".into()],
            keywords: vec!["critical".into(), "NOT_COVERED".into()],
            thread_id: Some("arn:aws:dynamodb:eu-west-1:123456789012:table/orders".into()),
            summary: "CRITICAL backup-guard orders".into(),
            event_type: "backup-guard.table-guard".into(),
            related_resources: vec!["arn:aws:dynamodb:eu-west-1:123456789012:table/orders".into()],
            additional_context: BTreeMap::from([("account".into(), "123456789012".into())]),
        }
    }

    #[test]
    fn the_document_has_the_required_fields_and_the_documented_names() {
        let j = card().to_json();
        assert_eq!(j["version"], "1.0");
        assert_eq!(j["source"], "custom");
        assert_eq!(j["id"], "e1");
        assert_eq!(j["content"]["textType"], "client-markdown");
        assert_eq!(j["content"]["nextSteps"][0], "Tag it.");
        assert_eq!(j["content"]["keywords"][1], "NOT_COVERED");
        assert_eq!(
            j["metadata"]["threadId"],
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
        );
        assert_eq!(j["metadata"]["eventType"], "backup-guard.table-guard");
        assert_eq!(j["metadata"]["summary"], "CRITICAL backup-guard orders");
        assert_eq!(
            j["metadata"]["relatedResources"].as_array().unwrap().len(),
            1
        );
        assert_eq!(
            j["metadata"]["additionalContext"]["account"],
            "123456789012"
        );
        let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["content", "id", "metadata", "source", "version"]);
    }

    #[test]
    fn empty_optional_fields_are_left_out() {
        let j = ChatCard {
            title: "t".into(),
            description: "d".into(),
            ..ChatCard::default()
        }
        .to_json();
        assert!(j.get("id").is_none());
        assert!(j["content"].get("nextSteps").is_none());
        assert!(j["content"].get("keywords").is_none());
        assert!(j["metadata"].get("threadId").is_none());
        assert!(j["metadata"].get("relatedResources").is_none());
        assert!(j["metadata"].get("additionalContext").is_none());
    }

    #[test]
    fn every_field_is_cut_to_its_limit() {
        let mut c = card();
        c.title = "t".repeat(1000);
        c.description = format!("{}\n{}", "a".repeat(7000), "b".repeat(5000));
        c.next_steps = (0..20)
            .map(|i| format!("{i} {}", "s".repeat(900)))
            .collect();
        c.keywords = (0..20)
            .map(|i| format!("k{i}{}", "x".repeat(100)))
            .collect();
        c.related_resources = (0..30).map(|i| format!("arn:{i}")).collect();
        c.summary = "s".repeat(999);
        let j = c.to_json();
        let chars = |v: &Value| v.as_str().unwrap().chars().count();
        assert_eq!(chars(&j["content"]["title"]), MAX_TITLE_CHARS);
        // Cut at the line break: the first 7000-character line survives whole.
        let d = j["content"]["description"].as_str().unwrap();
        assert!(d.chars().count() <= MAX_DESCRIPTION_CHARS);
        assert_eq!(d, format!("{}…", "a".repeat(7000)));
        let steps = j["content"]["nextSteps"].as_array().unwrap();
        assert_eq!(steps.len(), MAX_NEXT_STEPS);
        assert!(steps.iter().all(|s| chars(s) <= MAX_NEXT_STEP_CHARS));
        let kw = j["content"]["keywords"].as_array().unwrap();
        assert_eq!(kw.len(), MAX_KEYWORDS);
        assert!(kw.iter().all(|s| chars(s) <= MAX_KEYWORD_CHARS));
        assert_eq!(
            j["metadata"]["relatedResources"].as_array().unwrap().len(),
            MAX_RELATED_RESOURCES
        );
        assert!(chars(&j["metadata"]["summary"]) <= MAX_SUMMARY_CHARS);
    }

    #[test]
    fn escaping_breaks_mentions_links_and_formatting() {
        let e =
            escape("<!channel> <!here> <@U123> @here @channel <https://x|y> *b* _i_ ~s~ `c` a&b");
        for bad in ["<", ">", "@here", "@channel", "*b*", "_i_", "~s~", "`"] {
            assert!(!e.contains(bad), "{bad:?} survived in {e:?}");
        }
        assert!(e.contains("&lt;!channel&gt;"), "{e}");
        assert!(e.contains("a&amp;b"), "{e}");
        assert!(e.contains("@\u{200B}here"), "{e}");
        // Plain text stays readable.
        assert_eq!(escape("orders-2026.v1 is fine"), "orders-2026.v1 is fine");
        assert_eq!(escape("two\nlines"), "two lines");
        assert_eq!(escape("a @ b"), "a @ b");
        assert_eq!(escape("orders_prod"), "orders_prod");
        assert_eq!(escape("_x_"), "_\u{200B}x_\u{200B}");
        assert_eq!(escape("a*b"), "a*\u{200B}b");
    }

    #[test]
    fn code_spans_keep_names_whole_but_not_mentions() {
        assert_eq!(code("my_table.v2"), "`my_table.v2`");
        assert_eq!(code("a`b"), "`a'b`");
        assert_eq!(code("<!here>"), "`&lt;!here&gt;`");
        assert_eq!(code("@here"), "`@\u{200B}here`");
    }

    #[test]
    fn cut_never_splits_an_entity() {
        let s = format!("{}&amp;tail", "x".repeat(8));
        let c = cut(&s, 11);
        assert_eq!(c, format!("{}…", "x".repeat(8)));
        assert!(c.chars().count() <= 11);
        assert_eq!(cut("short", 10), "short");
    }

    #[test]
    fn push_line_refuses_what_does_not_fit() {
        let mut s = String::new();
        assert!(push_line(&mut s, "abc", 10));
        assert!(push_line(&mut s, "def", 10));
        assert!(!push_line(&mut s, "ghi", 10));
        assert_eq!(s, "abc\ndef\n");
    }
}
