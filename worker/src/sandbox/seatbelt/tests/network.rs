//! What rendered profiles let a task do on the network: nothing without it, and with it
//! no Unix socket but the resolver's.

use super::{allowed_spec, approved_spec, render, rules_of, strings};

#[test]
fn without_network_no_rule_allows_a_socket() {
    let rules = rules_of(&allowed_spec());

    let networking = rules.iter().filter(|r| {
        r.allow
            && r.operations
                .iter()
                .any(|op| op.starts_with("network") || op.starts_with("system-socket"))
    });

    assert_eq!(networking.count(), 0);
}

#[test]
fn with_network_the_only_unix_socket_is_the_resolvers() {
    let spec = approved_spec();
    let profile = render(&spec);
    let rules = rules_of(&spec);

    assert!(spec.network);
    assert!(profile.contains("(allow network-outbound (remote ip))"));
    let unix_targets: Vec<_> = rules
        .iter()
        .filter(|r| r.allow && r.operations.iter().any(|op| op == "network-outbound"))
        .flat_map(|r| strings(&r.filters))
        .collect();
    assert_eq!(unix_targets, ["/private/var/run/mDNSResponder"]);
    assert!(!profile.contains("com.apple.SecurityServer"));
}
