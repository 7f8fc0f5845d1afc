//! `/ui` pages over real HTTP: an image attachment previewed and served safely, and a
//! webhook message redelivered and a schedule paused from their pages only with the
//! session's CSRF token.

use openclaw_bot::config::WebhookEndpointConfig;
use openclaw_bot::queue::WebhookState;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use reqwest::StatusCode;
use secrecy::SecretString;
use tokio::net::TcpListener;

use crate::attachments::{upload, PNG};
use crate::helpers::{success, within, TestApp, CLIENT};
use crate::ui::{browser, get_page, session};
use crate::webhook_receiver::SECRET;

#[tokio::test]
async fn an_image_attachment_is_previewed_and_served_sandboxed() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("screencapture").await;
        let claimed = app.claim("mac").await.remove(0);
        upload(&app, &claimed, "mac", "shot.png", PNG).await;
        app.report(&claimed, "mac", &success("")).await;
        let (cookie, _) = session(&app).await;
        let path = format!("/ui/tasks/{id}/attachments/shot.png");

        let (_, page) = get_page(&app, &format!("/ui/tasks/{id}"), &cookie).await;
        let file = browser()
            .get(app.url(&path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        let anonymous = browser().get(app.url(&path)).send().await.unwrap();

        assert!(
            page.contains(&format!("<img class=\"preview\" src=\"{path}\"")),
            "{page}"
        );
        assert_eq!(file.status(), StatusCode::OK);
        assert_eq!(file.headers()[CONTENT_TYPE], "image/png");
        assert_eq!(file.headers()["x-content-type-options"], "nosniff");
        let csp = file.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("sandbox"), "{csp}");
        assert_eq!(file.bytes().await.unwrap().as_ref(), PNG);
        assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    })
    .await;
}

#[tokio::test]
async fn a_failed_webhook_is_redelivered_from_its_page_only_with_the_csrf_token() {
    within(async {
        // A receiver that is never up: one attempt, then failed.
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", closed.local_addr().unwrap());
        drop(closed);
        let app = TestApp::spawn_with(|c| {
            c.webhooks = vec![WebhookEndpointConfig {
                url: url.clone(),
                secret: SecretString::from(SECRET),
                events: vec!["task.finished".into()],
            }];
            c.webhook_delivery.max_attempts = 1;
        })
        .await;
        let queue = app.state.queue().clone();
        let id = app.submit_command("true").await;
        let claimed = app.claim("mac").await.remove(0);
        app.report(&claimed, "mac", &success("")).await;
        let failed = loop {
            let listed = queue.webhook_deliveries(None, 1).await.unwrap();
            if listed
                .first()
                .is_some_and(|d| d.state == WebhookState::Failed)
            {
                break listed[0].clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        let (cookie, csrf) = session(&app).await;
        let (_, page) = get_page(&app, "/ui/webhooks", &cookie).await;
        let redeliver = app.url(&format!("/ui/webhooks/{}/redeliver", failed.id));

        let refused = browser()
            .post(&redeliver)
            .header("cookie", &cookie)
            .form(&[("csrf", "wrong")])
            .send()
            .await
            .unwrap();
        let still = queue.webhook_deliveries(None, 1).await.unwrap().remove(0);
        let allowed = browser()
            .post(&redeliver)
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        let after = queue.webhook_deliveries(None, 1).await.unwrap().remove(0);

        assert!(
            page.contains(&failed.id) && page.contains("failed"),
            "{page}"
        );
        assert!(page.contains(&id.to_string()), "{page}");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(still.state, WebhookState::Failed);
        assert_eq!(allowed.status(), StatusCode::SEE_OTHER);
        assert_eq!(after.id, failed.id);
        // Pending again with its attempts counted afresh, or already tried again since.
        assert!(
            (after.state == WebhookState::Pending && after.attempts == 0)
                || after.last_attempt_at > failed.last_attempt_at,
            "{after:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_schedule_is_shown_with_its_next_runs_and_paused_from_its_page_only_with_the_csrf_token()
{
    within(async {
        let app = TestApp::spawn().await;
        let saved = app
            .schedule(serde_json::json!({
                "name": "<b>nightly</b>",
                "cron": "0 30 2 * * *",
                "tz": "Europe/Paris",
                "task": {"kind": "command", "command": "echo backup"},
            }))
            .await;
        let id = saved["id"].as_str().unwrap().to_owned();
        let (cookie, csrf) = session(&app).await;
        let pause = app.url(&format!("/ui/schedules/{id}/pause"));

        let (status, page) = get_page(&app, "/ui/schedules", &cookie).await;
        let refused = browser()
            .post(&pause)
            .header("cookie", &cookie)
            .form(&[("csrf", "wrong")])
            .send()
            .await
            .unwrap();
        let after_refusal = app.get(&format!("/schedules/{id}"), Some(CLIENT)).await.1;
        let allowed = browser()
            .post(&pause)
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        let after = app.get(&format!("/schedules/{id}"), Some(CLIENT)).await.1;
        let (_, paused_page) = get_page(&app, "/ui/schedules", &cookie).await;

        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(&id) && page.contains("0 30 2 * * *"),
            "{page}"
        );
        assert!(page.contains("Europe/Paris"), "{page}");
        // Its next runs, in its own time zone; its name as text, never markup.
        assert!(page.contains("02:30"), "{page}");
        assert!(page.contains("&lt;b&gt;nightly&lt;/b&gt;"), "{page}");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(after_refusal["paused"], false, "{after_refusal}");
        assert_eq!(allowed.status(), StatusCode::SEE_OTHER);
        assert_eq!(after["paused"], true, "{after}");
        assert!(
            paused_page.contains("paused") && paused_page.contains(">Resume<"),
            "{paused_page}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_running_tasks_page_shows_its_live_output_as_text() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("make").await;
        let lease = app.claim("mac").await[0].lease;
        crate::live_output::piece(&app, id, lease, 0, "compiling <b>x</b>\nstep 2\n").await;
        let (cookie, _) = session(&app).await;

        let (status, page) = get_page(&app, &format!("/ui/tasks/{id}"), &cookie).await;

        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Live output"), "{page}");
        assert!(
            page.contains("compiling &lt;b&gt;x&lt;/b&gt;\nstep 2"),
            "{page}"
        );
        assert!(!page.contains("<b>x</b>"), "{page}");
    })
    .await;
}
