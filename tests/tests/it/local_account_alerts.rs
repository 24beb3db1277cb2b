//! Alerts published to the topic reach the subscribed SQS queue as an SNS envelope with
//! subject and message attributes, as a subscriber sees them.

use awsio::publisher::{AlertMessage, AttributeValue, publish};
use local_account::{LocalAccount, Scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_alerts_arrive_with_attributes() {
    let account = LocalAccount::start(&Scenario::shipped("healthy").unwrap())
        .await
        .unwrap();
    let env = account.env();
    let topic = env
        .iter()
        .find(|(k, _)| k == "BG_TOPIC_ARN")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert_eq!(topic, account.topic_arn());
    assert!(account.receive_alerts().await.unwrap().is_empty());

    let ctx = account.context().await;
    // Through the product's publisher (MessageStructure=json: SQS gets the JSON document,
    // not the chat card, which is the https variant).
    let msg = AlertMessage {
        subject: "[HIGH] backup-guard: table orders missed 2026-11-15".into(),
        text: "Table orders has no backup for 2026-11-15T00:00:00Z.".into(),
        json: serde_json::json!({"table": "orders", "code": "MISSED_SLOT"}),
        attributes: vec![
            ("severity".into(), AttributeValue::String("high".into())),
            (
                "codes".into(),
                AttributeValue::StringArray(vec!["MISSED_SLOT".into()]),
            ),
        ],
        chat: Some(awsio::chat::ChatCard {
            title: ":red_circle: HIGH `orders`: missed 2026-11-15".into(),
            description: "*Table* `orders`".into(),
            summary: "[HIGH] backup-guard: table orders missed 2026-11-15".into(),
            event_type: "backup-guard.table-guard".into(),
            ..Default::default()
        }),
    };
    let id = publish(ctx.sns(), &topic, &msg).await.unwrap();
    // And a plain publish with a string attribute.
    ctx.sns()
        .publish()
        .topic_arn(&topic)
        .subject("plain")
        .message("hello")
        .message_attributes(
            "table",
            aws_sdk_sns::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value("customers")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let alerts = account.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let a = alerts.iter().find(|a| a.message_id == id).unwrap();
    assert_eq!(a.topic_arn, topic);
    assert_eq!(
        a.subject.as_deref(),
        Some("[HIGH] backup-guard: table orders missed 2026-11-15")
    );
    let doc: serde_json::Value = serde_json::from_str(&a.message).unwrap();
    assert_eq!(doc["code"], "MISSED_SLOT");
    assert!(doc.get("content").is_none(), "SQS got the chat card: {doc}");
    assert_eq!(
        a.attributes.get("severity").map(String::as_str),
        Some("high")
    );
    assert_eq!(
        a.attributes.get("codes").map(String::as_str),
        Some(r#"["MISSED_SLOT"]"#)
    );
    let b = alerts.iter().find(|a| a.message_id != id).unwrap();
    assert_eq!(
        (b.subject.as_deref(), b.message.as_str()),
        (Some("plain"), "hello")
    );
    assert_eq!(
        b.attributes.get("table").map(String::as_str),
        Some("customers")
    );
    // Drained: nothing left.
    assert!(account.receive_alerts().await.unwrap().is_empty());
}
