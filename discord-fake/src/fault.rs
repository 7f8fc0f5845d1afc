//! Fault injection: make the next request(s) to a route fail the way Discord fails, so retry and
//! backoff paths in the bot can be tested against real HTTP.

use std::time::Duration;

use crate::route::Route;

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteMatcher {
    /// Requests to one endpoint kind.
    Route(Route),
    /// Any request whose path contains this text (e.g. a channel id).
    PathContains(String),
    /// Every request.
    Any,
}

impl From<Route> for RouteMatcher {
    fn from(route: Route) -> Self {
        Self::Route(route)
    }
}

impl RouteMatcher {
    /// Whether a request with this route and path matches.
    fn matches(&self, route: Route, path: &str) -> bool {
        match self {
            Self::Route(r) => *r == route,
            Self::PathContains(text) => path.contains(text.as_str()),
            Self::Any => true,
        }
    }
}

/// How a faulted request fails.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FailMode {
    /// Answer with this HTTP status and a Discord-style `{"message", "code": 0}` body.
    Status(u16),
    /// Answer 429 with `retry_after` in the body (seconds, fractional) and the `Retry-After`,
    /// `X-RateLimit-*` headers, as Discord's per-route limiter does.
    RateLimited {
        /// How long Discord asks the client to wait.
        retry_after: Duration,
    },
}

/// A pending fault and how many more requests it will fail.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    pub(crate) matcher: RouteMatcher,
    pub(crate) mode: FailMode,
    pub(crate) remaining: u32,
}

/// Consumes one use of the oldest fault matching this request, if any.
pub(crate) fn take_fault(faults: &mut Vec<Fault>, route: Route, path: &str) -> Option<FailMode> {
    let index = faults.iter().position(|f| f.matcher.matches(route, path))?;
    let fault = &mut faults[index];
    let mode = fault.mode;
    fault.remaining = fault.remaining.saturating_sub(1);
    if fault.remaining == 0 {
        faults.remove(index);
    }
    Some(mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(matcher: RouteMatcher, remaining: u32) -> Fault {
        Fault {
            matcher,
            mode: FailMode::Status(500),
            remaining,
        }
    }

    #[test]
    fn a_fault_is_used_up_after_its_count() {
        let mut faults = vec![fault(Route::EditOriginal.into(), 2)];

        let hits: Vec<_> = (0..3)
            .map(|_| take_fault(&mut faults, Route::EditOriginal, "/p"))
            .collect();

        assert_eq!(
            hits,
            [
                Some(FailMode::Status(500)),
                Some(FailMode::Status(500)),
                None
            ]
        );
    }

    #[test]
    fn other_routes_are_not_affected() {
        let mut faults = vec![fault(Route::EditOriginal.into(), 1)];

        let hit = take_fault(&mut faults, Route::CreateMessage, "/p");

        assert_eq!(hit, None);
        assert_eq!(faults.len(), 1);
    }

    #[test]
    fn path_matchers_see_ids_in_the_path() {
        let mut faults = vec![fault(RouteMatcher::PathContains("/channels/7/".into()), 1)];

        assert_eq!(
            take_fault(
                &mut faults,
                Route::CreateMessage,
                "/api/v10/channels/8/messages"
            ),
            None
        );
        assert!(take_fault(
            &mut faults,
            Route::CreateMessage,
            "/api/v10/channels/7/messages"
        )
        .is_some());
    }
}
