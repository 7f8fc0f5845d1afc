//! `/ui` in a real browser: headless Chromium against the real bot and the real worker.
//! Logs in with the admin token, finds a queued task, and follows it on its page from
//! queued to running (with its live output) to finished through the live updates alone (the
//! page is never reloaded), checking what it shows; looks at the workers and schedules pages;
//! saves screenshots to `target/tmp/ui-*.png`.

use std::fs;
use std::path::PathBuf;

use serde_json::json;

use crate::helpers::{
    start_open_stack, within_limit, write_script, Browser, WorkerProcess, ADMIN_TOKEN,
};

/// Where the screenshots go: `target/tmp` of the workspace.
fn shot(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../target/tmp/ui-{name}.png"))
}

/// The text of the first element matching `selector` inside `<main>`, as JS.
fn text_of(selector: &str) -> String {
    format!(
        "(document.querySelector({}) || {{}}).textContent",
        json!(format!("main {selector}"))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_followed_from_queued_to_finished_in_a_real_browser() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let gate = dirs.home.join("run/gate");
        fs::create_dir_all(gate.parent().unwrap()).unwrap();
        let script = dirs.home.join("gated.sh");
        write_script(
            &script,
            "#!/bin/sh\necho 'warming up <i>live</i>'\n\
             while [ ! -f \"$1\" ]; do sleep 0.05; done\n\
             echo 'hello from the Mac <b>not bold</b> <script>alert(1)</script>'\n",
        );
        let command = format!("{} {}", script.display(), gate.display());
        let id = bot.submit("/tasks", json!({ "command": command })).await;
        let base = bot.url();
        let mut browser = Browser::launch(1100, 820).await;

        // Not logged in: the login form.
        browser.goto(&format!("{base}/ui/tasks")).await;
        browser.wait_for_load(&format!("{base}/ui/login")).await;
        browser.screenshot(&shot("login")).await;
        browser
            .eval(&format!(
                "document.querySelector('#token').value = {}; \
                 document.querySelector('form.login').submit(); true",
                json!(ADMIN_TOKEN)
            ))
            .await;
        browser.wait_for_load(&format!("{base}/ui/tasks")).await;

        // The list shows the queued task.
        let row = format!("tr[data-task='{id}'] .badge");
        browser
            .wait_until(
                "the task queued in the list",
                &format!("{} === 'queued'", text_of(&row)),
                10,
            )
            .await;
        browser.screenshot(&shot("tasks-queued")).await;

        // Its page, followed live: no reload from here on (the marker would be gone).
        browser.goto(&format!("{base}/ui/tasks/{id}")).await;
        browser.eval("window.__notReloaded = true").await;
        browser
            .wait_until(
                "the live-update stream open",
                "document.querySelector('#live-status.on') !== null",
                10,
            )
            .await;
        let badge = text_of("p .badge");
        browser
            .wait_until("queued", &format!("{badge} === 'queued'"), 10)
            .await;
        let worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        browser
            .wait_until("running", &format!("{badge} === 'running'"), 30)
            .await;
        // Its live output, as text, while it runs (the page follows it).
        browser
            .wait_until(
                "the live output on the page",
                &format!(
                    "({} || '').indexOf('warming up <i>live</i>') >= 0",
                    text_of("pre.output.live")
                ),
                30,
            )
            .await;
        assert_eq!(
            browser
                .eval("document.querySelectorAll('main pre.output.live *').length")
                .await,
            json!(0),
            "live output became markup"
        );
        browser.screenshot(&shot("task-running")).await;
        fs::write(&gate, "").unwrap();
        browser
            .wait_until("succeeded", &format!("{badge} === 'succeeded'"), 30)
            .await;

        assert_eq!(
            browser.eval("window.__notReloaded === true").await,
            json!(true)
        );
        let stdout = browser.eval(&text_of("pre.stdout")).await;
        assert_eq!(
            stdout,
            json!("warming up <i>live</i>\nhello from the Mac <b>not bold</b> <script>alert(1)</script>\n")
        );
        assert_eq!(
            browser
                .eval("document.querySelectorAll('main pre.stdout *').length")
                .await,
            json!(0),
            "output became markup"
        );
        assert_eq!(browser.eval(&text_of("dd.verdict")).await, json!("allow"));
        assert_eq!(browser.eval(&text_of("dd.exit")).await, json!("0"));
        browser.screenshot(&shot("task")).await;

        // The other pages, and the task page on a phone.
        browser.goto(&format!("{base}/ui/tasks")).await;
        browser.screenshot(&shot("tasks")).await;
        browser.goto(&format!("{base}/ui/workers")).await;
        let workers = browser
            .eval("document.querySelector('main').innerText")
            .await;
        assert!(workers.as_str().unwrap().contains("enforced"), "{workers}");
        browser.screenshot(&shot("workers")).await;
        let schedule = reqwest::Client::new()
            .post(format!("{base}/schedules"))
            .bearer_auth(crate::helpers::CLIENT_TOKEN)
            .json(&json!({
                "name": "nightly backup",
                "cron": "0 30 2 * * *",
                "tz": "Europe/Paris",
                "task": {"kind": "command", "command": "backup.sh"},
            }))
            .send()
            .await
            .unwrap();
        assert!(schedule.status().is_success());
        browser.goto(&format!("{base}/ui/schedules")).await;
        let schedules = browser
            .eval("document.querySelector('main').innerText")
            .await;
        assert!(
            schedules.as_str().unwrap().contains("nightly backup"),
            "{schedules}"
        );
        browser.screenshot(&shot("schedules")).await;
        browser
            .call(
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true }),
            )
            .await;
        browser.goto(&format!("{base}/ui/tasks/{id}")).await;
        let overflow = browser
            .eval("document.documentElement.scrollWidth <= window.innerWidth + 1")
            .await;
        browser.screenshot(&shot("task-phone")).await;
        assert_eq!(
            overflow,
            json!(true),
            "the task page scrolls sideways on a phone"
        );

        worker.stop().await;
        bot.stop().await;
    })
    .await;
}
