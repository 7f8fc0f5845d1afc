//! A sweep through a large backlog works in batches: requests keep their turn on the store
//! while 50,000 expired tasks are ended, and the log gets one summary line, not one per task.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{TestApp, ADMIN};
use crate::log_flood::Captured;

/// Tasks in the backlog.
const BACKLOG: u64 = 50_000;

/// Puts `count` queued tasks that expired long ago straight into the database at `path`,
/// in one transaction (as a bot that was down for a day would find them).
fn insert_expired(path: &std::path::Path, count: u64) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO tasks (id, kind, spec, status, timeout_ms, created_at, expires_at) \
                 VALUES (?1, 'command', '{\"kind\":\"command\",\"command\":\"true\"}', 'queued', \
                 30000, 1, 2)",
            )
            .unwrap();
        for _ in 0..count {
            insert
                .execute([openclaw_shared::TaskId::new().to_string()])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

#[test]
fn a_sweep_of_50000_expired_tasks_logs_one_line_and_lets_requests_through() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Single-threaded runtime: the sweeper logs on this thread (the store's threads too).
    let _guard = tracing::subscriber::set_default(subscriber);
    runtime.block_on(async {
        // Until swept, the backlog counts as live tasks: room for it and the creates below.
        let app = TestApp::spawn_with(|config| config.quota.max_live_tasks = 2 * BACKLOG).await;
        let startup = captured.text().len();
        insert_expired(&app.state.config().storage.database_path(), BACKLOG);

        let started = Instant::now();
        let mut slowest_create = Duration::ZERO;
        let mut slowest_health = Duration::ZERO;
        let mut creates = 0;
        loop {
            let at = Instant::now();
            app.submit_command("echo meanwhile").await;
            slowest_create = slowest_create.max(at.elapsed());
            creates += 1;
            let at = Instant::now();
            let (status, health) = app.get("/admin/health", Some(ADMIN)).await;
            slowest_health = slowest_health.max(at.elapsed());
            assert_eq!(status, StatusCode::OK, "{health}");
            if health["queue_depth"]["expired"] == BACKLOG {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the backlog was not swept within a minute: {health}"
            );
        }
        // The summary is logged when the whole sweep is done, pruning included: a moment
        // after the last batch made the count above visible.
        let summary_by = Instant::now() + Duration::from_secs(5);
        while !captured.text()[startup..].contains("swept the queue") && Instant::now() < summary_by
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let log = captured.text().split_off(startup);

        assert!(
            creates > 1,
            "the sweep ended before a request could run beside it"
        );
        assert!(
            slowest_create < Duration::from_millis(250),
            "a create waited {slowest_create:?} for the sweep"
        );
        assert!(
            slowest_health < Duration::from_millis(250),
            "health waited {slowest_health:?} for the sweep"
        );
        let summaries: Vec<&str> = log
            .lines()
            .filter(|line| line.contains("swept the queue"))
            .collect();
        assert_eq!(summaries.len(), 1, "{summaries:?}");
        assert!(summaries[0].contains("expired=50000"), "{}", summaries[0]);
        let others: Vec<&str> = log
            .lines()
            .filter(|line| !line.contains("task created") && !line.contains("swept the queue"))
            .collect();
        assert!(
            others.len() < 5,
            "{} other lines:\n{others:#?}",
            others.len()
        );
        app.stop().await;
    });
}
