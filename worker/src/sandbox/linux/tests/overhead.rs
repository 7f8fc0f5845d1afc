//! The cost of confinement, measured (ignored by default: a measurement, not a check).
//! Run in release for figures worth quoting:
//! `cargo test --release -p openclaw-worker --lib spawn_overhead -- --ignored --nocapture`.

use std::time::Instant;

use super::*;

/// How many spawns of each kind are timed.
const RUNS: usize = 300;

/// The default deny lists' literal paths, for `home`.
fn default_exclusions(home: &std::path::Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let literal = |list: &[&str]| -> Vec<PathBuf> {
        list.iter()
            .filter(|p| !p.contains('*'))
            .map(|p| home.join(p.trim_start_matches("~/")))
            .collect()
    };
    (
        literal(crate::policy::defaults::DENY_PATHS),
        literal(crate::policy::defaults::DENY_WRITE_PATHS),
    )
}

/// Spawn times of one kind, in µs: the `spawn` call alone, and spawn to exit.
#[derive(Default)]
struct Times {
    spawn_us: Vec<u128>,
    exit_us: Vec<u128>,
}

impl Times {
    fn report(mut self, name: &str) {
        self.spawn_us.sort_unstable();
        self.exit_us.sort_unstable();
        let at = |v: &[u128], p: usize| v[v.len() * p / 100];
        println!(
            "{name:>9}: spawn p50 {:>5} µs p90 {:>5} µs | spawn to exit p50 {:>5} µs p90 {:>5} µs (n={RUNS})",
            at(&self.spawn_us, 50),
            at(&self.spawn_us, 90),
            at(&self.exit_us, 50),
            at(&self.exit_us, 90)
        );
    }
}

/// Spawn overhead of `/bin/true`, plain and confined, the kinds interleaved so that each
/// sees the same load.
#[tokio::test]
#[ignore = "a measurement, not a check"]
async fn spawn_overhead() {
    let home = Home::new();
    let real_home = PathBuf::from(std::env::var_os("HOME").unwrap());
    let (hidden, read_only) = default_exclusions(&real_home);
    let mut allowed = home.allowed(false);
    allowed.hidden.extend(hidden.iter().cloned());
    allowed.read_only.extend(read_only.iter().cloned());
    let mut approved = allowed.clone();
    approved.trees.push(tree(real_home.clone(), Access::Full));
    let kinds = [
        ("plain", None),
        ("allowed", Some(&allowed)),
        ("approved", Some(&approved)),
    ];
    let mut times: Vec<Times> = kinds.iter().map(|_| Times::default()).collect();

    for _ in 0..RUNS {
        for ((_, spec), times) in kinds.iter().zip(times.iter_mut()) {
            let mut cmd = tokio::process::Command::new("/bin/true");
            let started = Instant::now();
            let child = match spec {
                Some(spec) => spawn(&mut cmd, spec).unwrap(),
                None => cmd.spawn().unwrap(),
            };
            times.spawn_us.push(started.elapsed().as_micros());
            child.wait_with_output().await.unwrap();
            times.exit_us.push(started.elapsed().as_micros());
        }
    }

    for ((name, _), times) in kinds.iter().zip(times) {
        times.report(name);
    }
    for (name, spec) in [("allowed", &allowed), ("approved", &approved)] {
        let started = Instant::now();
        let grants = plan(spec).unwrap();
        let took = started.elapsed().as_micros();
        println!(
            "{name:>9}: plan of {} rules in {took} µs (cache warm)",
            grants.len()
        );
    }
}
