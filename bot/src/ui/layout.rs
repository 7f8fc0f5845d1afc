//! The page frame every `/ui` page shares (head, navigation, the logout form) and small
//! pure helpers for what pages show: times, durations, statuses, URL path segments.
//!
//! Everything spliced into markup goes through maud's escaping; nothing a task, a worker or
//! a receiver wrote is ever emitted as markup (`PreEscaped` is used for nothing).

use axum::response::Html;
use maud::{html, Markup, DOCTYPE};
use openclaw_shared::{EpochMillis, TaskStatus};

/// The navigation: path and label.
pub const NAV: &[(&str, &str)] = &[
    ("/ui/tasks", "Tasks"),
    ("/ui/workers", "Workers"),
    ("/ui/schedules", "Schedules"),
    ("/ui/webhooks", "Webhooks"),
];

/// A whole page: `title`, the navigation with `current` marked, the logout form (with the
/// session's `csrf`), and `body` in a `<main>` the live-update script refreshes; `live`
/// names what it refreshes on (`tasks`, or `task:<id>`), `None` for no refresh.
pub fn page(
    title: &str,
    current: &str,
    csrf: &str,
    live: Option<&str>,
    body: Markup,
) -> Html<String> {
    Html(html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                title { (title) " · OpenClaw" }
                link rel="stylesheet" href="/ui/assets/ui.css";
                script src="/ui/assets/ui.js" defer {}
            }
            body {
                header {
                    a.brand href="/ui/tasks" { "OpenClaw" }
                    nav {
                        @for (path, label) in NAV {
                            a href=(path) aria-current=[(*path == current).then_some("page")] { (label) }
                        }
                    }
                    form.logout method="post" action="/ui/logout" {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" { "Log out" }
                    }
                    span #live-status title="Live updates" {}
                }
                main data-live=[live] { (body) }
            }
        }
    }
    .into_string())
}

/// A page for someone not logged in: the same head, no navigation.
pub fn bare(title: &str, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · OpenClaw" }
                    link rel="stylesheet" href="/ui/assets/ui.css";
                }
                body { main.narrow { (body) } }
            }
        }
        .into_string(),
    )
}

/// A status as a badge (its CSS class is the status).
pub fn status_badge(status: TaskStatus) -> Markup {
    let name = status.as_str();
    html! { span class={ "badge " (name) } { (name) } }
}

/// `millis` as `YYYY-MM-DD HH:MM:SS` UTC.
pub fn time(millis: EpochMillis) -> String {
    let nanos = i128::from(millis) * 1_000_000;
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => millis.to_string(),
    }
}

/// A time, or a dash.
pub fn maybe_time(millis: Option<EpochMillis>) -> String {
    millis.map_or_else(|| "—".into(), time)
}

/// A duration in milliseconds, short: `850 ms`, `12.3 s`, `4 min 5 s`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// `text` as one URL path segment: unreserved characters as they are, every other byte
/// percent-encoded (a file name with `/`, `?`, `#` or quotes stays one segment).
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_format_times_durations_and_segments() {
        assert_eq!(time(1_764_554_400_000), "2025-12-01 02:00:00");
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(12_345), "12.3 s");
        assert_eq!(duration(245_000), "4 min 5 s");
        assert_eq!(segment("a b/<x>.png"), "a%20b%2F%3Cx%3E.png");
    }

    #[test]
    fn markup_from_a_task_is_escaped() {
        let page = bare("t", html! { pre { ("<script>alert(1)</script>") } }).0;

        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script>alert"));
    }
}
