//! Publishing alerts to the SNS topic.
//!
//! Every message is sent with `MessageStructure=json`: `default` and `email` carry the
//! email-readable text, `email-json`, `sqs` and `lambda` carry the machine-readable JSON
//! document, and `https` carries the chat card ([`crate::chat`], the custom notification
//! format AWS Chatbot renders in Slack and Teams channels; the JSON document when a message
//! has no card), so each kind of subscriber gets the form it can use. Message attributes (severity, finding codes,
//! table, account, region, mode) let subscribers filter with SNS filter policies.

use aws_sdk_sns::types::MessageAttributeValue;

use crate::chat::ChatCard;
use crate::error::{AwsCallError, OperationContext};

/// SNS's limit for a whole message (body + attributes), in bytes.
pub const MAX_MESSAGE_BYTES: usize = 262_144;
/// SNS's limit for a subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 100;

/// A message attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    /// `String`.
    String(String),
    /// `String.Array` (JSON array of strings), e.g. the finding codes.
    StringArray(Vec<String>),
}

/// One alert or digest, in all the forms subscribers receive.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertMessage {
    /// Subject line (email subject). Cleaned to SNS's rules when sent: printable ASCII, no
    /// line breaks, at most 100 characters.
    pub subject: String,
    /// Email-readable text.
    pub text: String,
    /// Machine-readable document for SQS/Lambda subscribers.
    pub json: serde_json::Value,
    /// Message attributes for filter policies.
    pub attributes: Vec<(String, AttributeValue)>,
    /// The card chat channels show (the `https` variant, which AWS Chatbot's subscription
    /// receives); `None` sends the JSON document there, as before cards existed.
    pub chat: Option<ChatCard>,
}

/// Why a message could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The message is over SNS's size limit; callers must summarise, never truncate.
    #[error("alert message is {size} bytes, over SNS's limit of {MAX_MESSAGE_BYTES}")]
    TooLarge {
        /// The encoded size.
        size: usize,
    },
    /// The message could not be encoded.
    #[error("alert message could not be encoded: {0}")]
    Encode(String),
    /// SNS refused or failed.
    #[error(transparent)]
    Aws(#[from] AwsCallError),
}

/// Makes a subject acceptable to SNS: printable ASCII only (others become `?`), no control
/// characters, at most [`MAX_SUBJECT_CHARS`] (cut with `...` when longer).
pub fn clean_subject(subject: &str) -> String {
    let ascii: String = subject
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '?',
        })
        .collect();
    let trimmed = ascii.trim();
    if trimmed.len() <= MAX_SUBJECT_CHARS {
        trimmed.to_string()
    } else {
        format!("{}...", &trimmed[..MAX_SUBJECT_CHARS - 3])
    }
}

/// The `MessageStructure=json` body SNS receives.
pub fn structured_body(msg: &AlertMessage) -> Result<String, PublishError> {
    let machine =
        serde_json::to_string(&msg.json).map_err(|e| PublishError::Encode(e.to_string()))?;
    let https = match &msg.chat {
        Some(card) => serde_json::to_string(&card.to_json())
            .map_err(|e| PublishError::Encode(e.to_string()))?,
        None => machine.clone(),
    };
    serde_json::to_string(&serde_json::json!({
        "default": msg.text,
        "email": msg.text,
        "email-json": machine,
        "sqs": machine,
        "lambda": machine,
        "https": https,
    }))
    .map_err(|e| PublishError::Encode(e.to_string()))
}

fn attribute_value(v: &AttributeValue) -> Result<(String, String), PublishError> {
    Ok(match v {
        AttributeValue::String(s) => ("String".to_string(), s.clone()),
        AttributeValue::StringArray(items) => (
            "String.Array".to_string(),
            serde_json::to_string(items).map_err(|e| PublishError::Encode(e.to_string()))?,
        ),
    })
}

/// The size SNS counts for a message: the whole `MessageStructure=json` body (which carries
/// the text twice, the JSON three times and the chat card once, escaped; without a card the
/// JSON a fourth time) plus attribute names, types and values.
/// Check before publishing to choose a shorter form.
pub fn message_size(msg: &AlertMessage) -> Result<usize, PublishError> {
    Ok(structured_body(msg)?.len() + attributes_size(&msg.attributes)?)
}

/// The bytes message attributes add to a message: names, data types and values.
pub fn attributes_size(attributes: &[(String, AttributeValue)]) -> Result<usize, PublishError> {
    let mut size = 0;
    for (name, value) in attributes {
        let (ty, v) = attribute_value(value)?;
        size += name.len() + ty.len() + v.len();
    }
    Ok(size)
}

/// Publishes `msg` to `topic_arn`; returns the SNS message id.
pub async fn publish(
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
    msg: &AlertMessage,
) -> Result<String, PublishError> {
    let size = message_size(msg)?;
    if size > MAX_MESSAGE_BYTES {
        return Err(PublishError::TooLarge { size });
    }
    let mut req = sns
        .publish()
        .topic_arn(topic_arn)
        .subject(clean_subject(&msg.subject))
        .message_structure("json")
        .message(structured_body(msg)?);
    for (name, value) in &msg.attributes {
        let (ty, v) = attribute_value(value)?;
        let attr = MessageAttributeValue::builder()
            .data_type(ty)
            .string_value(v)
            .build()
            .map_err(|e| PublishError::Encode(e.to_string()))?;
        req = req.message_attributes(name, attr);
    }
    let out = req.send().await.op("SNS.Publish")?;
    Ok(out.message_id().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_is_cut_to_sns_limit_and_ascii() {
        let long = format!("HIGH ü {}", "x".repeat(200));
        let s = clean_subject(&long);
        assert_eq!(s.len(), MAX_SUBJECT_CHARS);
        assert!(s.starts_with("HIGH ? x"));
        assert!(s.ends_with("..."));
        assert_eq!(clean_subject("a\nb"), "a b");
    }

    #[test]
    fn body_has_a_variant_per_subscriber_kind() {
        let msg = AlertMessage {
            subject: "s".into(),
            text: "hello".into(),
            json: serde_json::json!({"k": 1}),
            attributes: vec![(
                "finding_codes".into(),
                AttributeValue::StringArray(vec!["NOT_COVERED".into()]),
            )],
            chat: None,
        };
        let body: serde_json::Value =
            serde_json::from_str(&structured_body(&msg).unwrap()).unwrap();
        assert_eq!(body["default"], "hello");
        assert_eq!(body["email"], "hello");
        assert_eq!(body["sqs"], r#"{"k":1}"#);
        assert_eq!(body["lambda"], r#"{"k":1}"#);
        let size = message_size(&msg).unwrap();
        assert_eq!(
            size,
            structured_body(&msg).unwrap().len()
                + "finding_codes".len()
                + "String.Array".len()
                + r#"["NOT_COVERED"]"#.len()
        );
        // The structured body repeats the text and the JSON per protocol, so it is what counts.
        assert!(size > 2 * msg.text.len() + 4 * r#"{"k":1}"#.len());
        // Without a card, the https variant is the JSON document, as it always was.
        assert_eq!(body["https"], r#"{"k":1}"#);
        assert_eq!(body["email-json"], r#"{"k":1}"#);
    }

    #[test]
    fn a_card_is_the_https_variant_and_leaves_the_others_byte_identical() {
        let plain = AlertMessage {
            subject: "s".into(),
            text: "hello \"you\"\n".into(),
            json: serde_json::json!({"k": [1, "two"]}),
            attributes: Vec::new(),
            chat: None,
        };
        let card = crate::chat::ChatCard {
            title: "T".into(),
            description: "D".into(),
            summary: "s".into(),
            event_type: "backup-guard.test".into(),
            ..Default::default()
        };
        let with_card = AlertMessage {
            chat: Some(card.clone()),
            ..plain.clone()
        };
        let a: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&structured_body(&plain).unwrap()).unwrap();
        let b: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&structured_body(&with_card).unwrap()).unwrap();
        let keys: Vec<&String> = b.keys().collect();
        assert_eq!(
            keys,
            ["default", "email", "email-json", "https", "lambda", "sqs"]
        );
        for k in ["default", "email", "email-json", "sqs", "lambda"] {
            assert_eq!(a[k], b[k], "variant {k} changed");
        }
        let https: serde_json::Value = serde_json::from_str(b["https"].as_str().unwrap()).unwrap();
        assert_eq!(https, card.to_json());
        assert_eq!(https["version"], "1.0");
        assert_eq!(https["source"], "custom");
        // The card is counted: the size is the body's, which now carries it.
        let grown = message_size(&with_card).unwrap();
        assert_eq!(grown, structured_body(&with_card).unwrap().len());
        assert_eq!(
            grown,
            message_size(&plain).unwrap()
                - serde_json::to_string(a["https"].as_str().unwrap())
                    .unwrap()
                    .len()
                + serde_json::to_string(b["https"].as_str().unwrap())
                    .unwrap()
                    .len()
        );
    }
}
