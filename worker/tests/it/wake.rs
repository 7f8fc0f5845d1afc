//! A long poll on a connection that died unseen is never waited on for long: it is given up
//! at its client-side deadline (the hold asked for plus a small margin), and at once when
//! the machine wakes from sleep (the wall clock jumped past the monotonic one).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use openclaw_worker::config::Config;
use openclaw_worker::poll::{WallClock, Worker, WAKE_CHECK_INTERVAL};
use tokio_util::sync::CancellationToken;

use crate::helpers::{init_logs, wait_for, within_limit, E2eDirs, FakeServer, WorkerProcess};

/// The system clock, plus time the test says the machine spent asleep.
#[derive(Default)]
struct SleepyClock {
    asleep: Mutex<Duration>,
}

impl SleepyClock {
    fn sleep_for(&self, time: Duration) {
        *self.asleep.lock().unwrap() += time;
    }
}

impl WallClock for SleepyClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + *self.asleep.lock().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_nobody_answers_is_given_up_at_its_deadline() {
    within_limit(async {
        let fake = FakeServer::start_hanging().await;
        let dirs = E2eDirs::new();
        dirs.init_worker_starter();
        // The harness asks the server to hold each claim 2 s.
        let worker = WorkerProcess::spawn(fake.url(), &dirs.home, &[]);

        wait_for("a second claim", || fake.claims_at().len() >= 2).await;

        let claims = fake.claims_at();
        let gap = claims[1] - claims[0];
        // "A little past the hold": the 2 s hold plus at most 5 s, and the first backoff
        // (≤ 0.5 s) with time to spare.
        assert!(
            gap >= Duration::from_secs(2) && gap < Duration::from_secs(8),
            "the second claim came {gap:?} after the first\n{}",
            worker.log_text()
        );
        worker.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wake_from_sleep_abandons_the_long_poll_at_once() {
    within_limit(async {
        init_logs();
        let fake = FakeServer::start_hanging().await;
        let dirs = E2eDirs::new();
        dirs.init_worker_starter();
        let config = Config::load(
            Some(&dirs.worker_dir().join("config.toml")),
            [
                ("WORKER_URL".to_owned(), fake.url().to_owned()),
                (
                    "WORKER_TOKEN".to_owned(),
                    openclaw_e2e::WORKER_TOKEN.to_owned(),
                ),
                ("OPENCLAW_WORKER_POLL_WAIT_SECS".to_owned(), "25".to_owned()),
            ],
        )
        .unwrap();
        let clock = Arc::new(SleepyClock::default());
        let worker = Worker::new(&config)
            .unwrap()
            .with_wall_clock(Arc::clone(&clock) as Arc<dyn WallClock>);
        let shutdown = CancellationToken::new();
        let running = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { worker.run(shutdown).await }
        });
        wait_for("the first claim", || fake.claims_at().len() == 1).await;
        // Well inside the 30 s deadline of that claim, and past the first clock check.
        tokio::time::sleep(WAKE_CHECK_INTERVAL * 2).await;

        clock.sleep_for(Duration::from_secs(60));
        let woke = Instant::now();
        wait_for("a claim after the wake", || fake.claims_at().len() >= 2).await;

        let after_wake = fake.claims_at()[1] - woke;
        assert!(
            after_wake < WAKE_CHECK_INTERVAL + Duration::from_secs(1),
            "the worker asked again {after_wake:?} after waking"
        );
        shutdown.cancel();
        running.await.unwrap();
    })
    .await;
}
