//! No secret in any log line: a full auth flow runs at debug level, then the
//! captured output is searched for every secret it handled.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let s = server().await;
    let a = register(&s, "xena").await;
    let b = login_ok(&s, "xena").await;
    let wrong = login(&s, "xena", "guessing-a-password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let c = refresh_ok(&s, &b.refresh).await;
    let replay = refresh(&s, &b.refresh).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let resp = authed(&s, Method::POST, "/v1/me/password", &a.access)
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "brand new secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = s
        .http()
        .get(s.url(&format!("/v1/me?access_token={}", a.access)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = authed(&s, Method::DELETE, "/v1/me", &a.access)
        .json(&json!({"password": "brand new secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let logs = s.logs();
    assert!(logs.len() > 10, "logs were captured: {logs:?}");
    assert!(
        logs.iter().any(|l| l.contains("account registered")),
        "handler events are captured"
    );
    assert!(
        logs.iter()
            .any(|l| l.contains("device revoked") || l.contains("replayed")),
        "security events are logged"
    );

    let key_pem = std::fs::read_dir(s.data_dir().join("keys"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect::<String>();
    let key_body: Vec<String> = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::to_owned)
        .collect();
    assert!(!key_body.is_empty());
    let mut secrets = vec![
        PASSWORD.to_owned(),
        "guessing-a-password".to_owned(),
        "brand new secret".to_owned(),
        "$argon2id$".to_owned(),
    ];
    for d in [&a, &b, &c] {
        secrets.push(d.access.clone());
        secrets.push(d.refresh.clone());
        // Any of the three JWT segments' signature alone is secret enough.
        secrets.push(d.access.rsplit('.').next().unwrap().to_owned());
    }
    secrets.extend(key_body);
    for line in &logs {
        for secret in &secrets {
            assert!(
                !line.contains(secret.as_str()),
                "a secret leaked into the logs: {line}"
            );
        }
    }
}
