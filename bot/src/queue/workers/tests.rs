//! Unit tests of the worker registry: admission under the shared token's cap, expiry, and
//! what the listing shows.

use super::*;

const SHARED: Voucher<'static> = Voucher::Shared {
    label: "auth.worker_token",
    cap: 2,
};
const OWN: Voucher<'static> = Voucher::Own {
    label: "auth.workers (name = \"mac\")",
};
/// A minute, in milliseconds: the expiry of the registries below.
const MINUTE: u64 = 60_000;

fn registry() -> Sightings {
    Sightings::new(Duration::from_millis(MINUTE))
}

fn report() -> SandboxReport {
    SandboxReport {
        enforced: true,
        detail: "landlock (ABI 7) + seccomp".into(),
    }
}

fn names(registry: &Sightings) -> Vec<String> {
    registry
        .workers(Vec::new())
        .into_iter()
        .map(|w| w.name)
        .collect()
}

#[test]
fn a_later_request_keeps_the_sandbox_a_worker_reported() {
    let sightings = registry();
    sightings.note_sandbox("mac", report());

    sightings.saw("mac");
    let workers = sightings.workers(vec![("mac".into(), 2), ("gone".into(), 1)]);

    assert_eq!(workers.len(), 1, "only workers seen are listed");
    assert_eq!(workers[0].sandbox, Some(report()));
    assert_eq!(workers[0].running, 2);
}

#[test]
fn the_shared_token_brings_new_names_only_under_its_cap() {
    let sightings = registry();
    let now = now_millis();

    sightings.admit("a", SHARED, now).unwrap();
    sightings.admit("b", SHARED, now).unwrap();
    let third = sightings.admit("c", SHARED, now);
    let again = sightings.admit("a", SHARED, now);
    let own = sightings.admit("mac", OWN, now);

    assert_eq!(
        third,
        Err(TooManyWorkers {
            cap: 2,
            expiry_secs: 60
        })
    );
    assert!(again.is_ok(), "a live name is admitted again");
    assert!(own.is_ok(), "a name with its own token is never capped");
    assert_eq!(names(&sightings), ["mac", "a", "b"]);
}

#[test]
fn a_name_unheard_of_past_the_expiry_is_forgotten_and_frees_its_place() {
    let sightings = registry();
    let long_ago = now_millis() - 2 * MINUTE;
    sightings.admit("old", SHARED, long_ago).unwrap();
    sightings.leave("old", long_ago);
    sightings.admit("b", SHARED, now_millis()).unwrap();

    let listed = names(&sightings);
    let newcomer = sightings.admit("c", SHARED, now_millis());

    assert_eq!(listed, ["b"], "a stale name is not listed");
    assert!(newcomer.is_ok(), "the stale name's place was freed");
    assert!(!sightings.lock().contains_key("old"), "and it was dropped");
}

#[test]
fn a_request_in_flight_keeps_its_worker_present_however_long_it_waits() {
    let sightings = registry();
    let long_ago = now_millis() - 2 * MINUTE;
    // Admitted long ago and still waiting (a long poll): not stale.
    sightings.admit("polling", SHARED, long_ago).unwrap();

    let workers = sightings.workers(Vec::new());
    let newcomer = sightings.admit("b", SHARED, now_millis());
    let full = sightings.admit("c", SHARED, now_millis());

    assert_eq!(workers.len(), 1);
    assert!(
        now_millis() - workers[0].last_seen < MINUTE,
        "shown as seen now"
    );
    assert!(newcomer.is_ok());
    assert!(full.is_err(), "the waiting name still holds its place");
}

#[test]
fn each_worker_shows_the_label_of_its_token_and_own_tokens_come_first() {
    let sightings = registry();
    let now = now_millis();
    sightings.admit("aaa-guest", SHARED, now).unwrap();
    sightings.admit("mac", OWN, now).unwrap();
    // The shared token acting as a name its own token brought does not make it a guest.
    sightings.admit("mac", SHARED, now).unwrap();

    let workers = sightings.workers(Vec::new());

    assert_eq!(workers[0].name, "mac");
    assert_eq!(
        workers[0].token.as_deref(),
        Some("auth.workers (name = \"mac\")")
    );
    assert!(!workers[0].shared);
    assert_eq!(workers[1].token.as_deref(), Some("auth.worker_token"));
    assert!(workers[1].shared);
}

#[test]
fn statuses_without_tasks_count_zero() {
    let counts = by_status(&[(TaskStatus::Running, 3)]);

    assert_eq!(counts.len(), TaskStatus::ALL.len());
    assert!(counts.contains(&(TaskStatus::Running, 3)));
    assert!(counts.contains(&(TaskStatus::Queued, 0)));
}
