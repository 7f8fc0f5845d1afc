//! `/ui` over real HTTP: the login, the session cookie's flags, the security headers, and
//! the attacks: no cookie, a wrong token, a cross-site or token-less POST (nothing
//! cancelled), and `<script>` in a task's output and file name (shown as text, never run).

use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{success, within, TestApp, ADMIN, CLIENT};

/// A browser-like client that does not follow redirects, so tests see them.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Logs in with `token`; returns the `Set-Cookie` header, if any, and the status.
async fn log_in(app: &TestApp, token: &str) -> (StatusCode, Option<String>) {
    let response = browser()
        .post(app.url("/ui/login"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status(), cookie)
}

/// A logged-in session: its `Cookie` header value and the CSRF token its pages carry.
pub async fn session(app: &TestApp) -> (String, String) {
    let (_, set_cookie) = log_in(app, ADMIN).await;
    let cookie = set_cookie.unwrap().split(';').next().unwrap().to_owned();
    let page = get_page(app, "/ui/tasks", &cookie).await.1;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    (cookie, csrf)
}

pub async fn get_page(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, String) {
    let response = browser()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn without_a_session_every_page_sends_the_browser_to_the_login_form() {
    within(async {
        let app = TestApp::spawn().await;

        for path in ["/ui/tasks", "/ui/workers", "/ui/webhooks", "/ui/events"] {
            let response = browser().get(app.url(path)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
            assert_eq!(response.headers()[LOCATION], "/ui/login");
        }
        let forged = get_page(&app, "/ui/tasks", "openclaw_session=made-up").await;
        let login = browser().get(app.url("/ui/login")).send().await.unwrap();

        assert_eq!(forged.0, StatusCode::SEE_OTHER);
        assert_eq!(login.status(), StatusCode::OK);
        let csp = login.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(login.headers()["x-frame-options"], "DENY");
    })
    .await;
}

#[tokio::test]
async fn only_the_admin_token_gets_a_session_and_its_cookie_is_httponly_and_strict() {
    within(async {
        let app = TestApp::spawn().await;

        let wrong = log_in(&app, "oc_admin_it_Lb8dK2fN6sU0jA4pG7zC1vX6").await;
        let client = log_in(&app, CLIENT).await;
        let admin = log_in(&app, ADMIN).await;

        assert_eq!(wrong, (StatusCode::UNAUTHORIZED, None));
        assert_eq!(client, (StatusCode::UNAUTHORIZED, None));
        assert_eq!(admin.0, StatusCode::SEE_OTHER);
        let cookie = admin.1.unwrap();
        for flag in ["HttpOnly", "SameSite=Strict", "Path=/ui", "Max-Age="] {
            assert!(cookie.contains(flag), "{cookie} lacks {flag}");
        }
        assert!(!cookie.contains("Secure"), "plain http: no Secure flag");
    })
    .await;
}

#[tokio::test]
async fn after_a_burst_of_failed_logins_even_the_right_token_waits() {
    within(async {
        let app = TestApp::spawn_with(|c| c.rate_limit.failed_auth_burst = 3).await;

        for _ in 0..3 {
            assert_eq!(log_in(&app, CLIENT).await.0, StatusCode::UNAUTHORIZED);
        }
        let admin = log_in(&app, ADMIN).await;

        assert_eq!(admin, (StatusCode::TOO_MANY_REQUESTS, None));
    })
    .await;
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure() {
    within(async {
        let app =
            TestApp::spawn_with(|c| c.http.public_url = Some("https://bot.example.com".into()))
                .await;

        let (_, cookie) = log_in(&app, ADMIN).await;

        assert!(cookie.unwrap().contains("; Secure"));
    })
    .await;
}

#[tokio::test]
async fn a_post_without_the_csrf_token_or_from_another_site_is_refused_and_nothing_is_cancelled() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("sleep 100").await;
        let (cookie, csrf) = session(&app).await;
        let cancel = app.url(&format!("/ui/tasks/{id}/cancel"));

        let no_token = browser()
            .post(&cancel)
            .header("cookie", &cookie)
            .form(&[("csrf", "")])
            .send()
            .await
            .unwrap();
        let wrong_token = browser()
            .post(&cancel)
            .header("cookie", &cookie)
            .form(&[("csrf", "x".repeat(csrf.len()))])
            .send()
            .await
            .unwrap();
        let cross_site = browser()
            .post(&cancel)
            .header("cookie", &cookie)
            .header("origin", "https://evil.example")
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        let no_session = browser()
            .post(&cancel)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();

        for response in [no_token, wrong_token, cross_site, no_session] {
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        let (_, task) = app.task(id, 0).await;
        assert_eq!(task["status"], "pending", "{task}");

        let allowed = browser()
            .post(&cancel)
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(allowed.status(), StatusCode::SEE_OTHER);
        let (_, task) = app.task(id, 0).await;
        assert_eq!(task["status"], "cancelled", "{task}");
    })
    .await;
}

#[tokio::test]
async fn script_in_output_and_in_a_file_name_is_shown_as_text() {
    within(async {
        let app = TestApp::spawn().await;
        let evil_path = "/tmp/<script>alert('name')</script>.txt";
        let (read, _) = app
            .create("/files/read", json!({ "path": evil_path }))
            .await;
        let claimed = app.claim("w1").await;
        app.report(
            &claimed[0],
            "w1",
            &success("<script>alert('out')</script><img src=x onerror=alert(1)>"),
        )
        .await;
        let (cookie, _) = session(&app).await;

        let (status, detail) = get_page(&app, &format!("/ui/tasks/{read}"), &cookie).await;
        let (_, list) = get_page(&app, "/ui/tasks", &cookie).await;

        assert_eq!(status, StatusCode::OK);
        for page in [&detail, &list] {
            assert!(!page.contains("<script>alert"), "{page}");
            assert!(!page.contains("<img src=x"), "{page}");
        }
        assert!(
            detail.contains("&lt;script&gt;alert('out')&lt;/script&gt;"),
            "{detail}"
        );
        assert!(
            detail.contains("&lt;script&gt;alert('name')&lt;/script&gt;.txt"),
            "{detail}"
        );
        assert!(list.contains("&lt;script&gt;alert('name')"), "{list}");
    })
    .await;
}
