//! Discord's mention rules: who a message notifies, given its content and `allowed_mentions`.
//! Tests use this to prove output such as `@everyone` pings nobody.

use serde_json::Value;

use crate::ids::id_string;

/// Who a message would notify, computed the way Discord does from its content and the
/// `allowed_mentions` sent with the latest payload (absent means "parse everything").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions {
    /// `@everyone` or `@here` would ping.
    pub everyone: bool,
    /// Users that would be pinged (`<@id>` in content, or the replied-to author).
    pub users: Vec<u64>,
    /// Roles that would be pinged (`<@&id>` in content).
    pub roles: Vec<u64>,
}

/// Discord's mention rules: without `allowed_mentions` everything in the content pings; with it,
/// only what `parse`, `users`, `roles` and `replied_user` allow.
pub(crate) fn compute_mentions(
    content: &str,
    allowed: Option<&Value>,
    replied_user: Option<u64>,
) -> Mentions {
    let parse_all = allowed.is_none();
    let parse = |kind: &str| {
        parse_all
            || allowed
                .and_then(|a| a.get("parse"))
                .and_then(Value::as_array)
                .is_some_and(|p| p.iter().any(|v| v.as_str() == Some(kind)))
    };
    let listed = |key: &str, id: u64| {
        allowed
            .and_then(|a| a.get(key))
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|v| id_string(Some(v)) == id.to_string()))
    };
    let everyone =
        parse("everyone") && (content.contains("@everyone") || content.contains("@here"));
    let mut users: Vec<u64> = mention_ids(content, "<@")
        .into_iter()
        .filter(|id| parse("users") || listed("users", *id))
        .collect();
    let replied = allowed
        .and_then(|a| a.get("replied_user"))
        .and_then(Value::as_bool)
        .unwrap_or(parse_all);
    if let Some(author) = replied_user.filter(|a| replied && !users.contains(a)) {
        users.push(author);
    }
    let roles = mention_ids(content, "<@&")
        .into_iter()
        .filter(|id| parse("roles") || listed("roles", *id))
        .collect();
    Mentions {
        everyone,
        users,
        roles,
    }
}

/// Finds `<@123>`/`<@!123>` (prefix `<@`) or `<@&123>` (prefix `<@&`) mentions in text.
fn mention_ids(content: &str, prefix: &str) -> Vec<u64> {
    let mut ids = Vec::new();
    for (start, _) in content.match_indices(prefix) {
        let rest = &content[start + prefix.len()..];
        let rest = if prefix == "<@" {
            if rest.starts_with('&') {
                continue;
            }
            rest.strip_prefix('!').unwrap_or(rest)
        } else {
            rest
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if rest[digits.len()..].starts_with('>') {
            if let Ok(id) = digits.parse() {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn everyone_pings_when_allowed_mentions_are_absent() {
        let m = compute_mentions("hi @everyone <@42> <@&7>", None, None);

        assert_eq!(
            m,
            Mentions {
                everyone: true,
                users: vec![42],
                roles: vec![7]
            }
        );
    }

    #[test]
    fn empty_parse_list_pings_nobody() {
        let allowed = json!({"parse": [], "users": [], "roles": []});

        let m = compute_mentions("@everyone @here <@!42> <@&7>", Some(&allowed), Some(9));

        assert_eq!(m, Mentions::default());
    }

    #[test]
    fn listed_users_ping_even_without_parse() {
        let allowed = json!({"parse": [], "users": ["42"], "replied_user": true});

        let m = compute_mentions("<@42> <@43>", Some(&allowed), Some(9));

        assert_eq!(m.users, vec![42, 9]);
        assert!(!m.everyone);
    }

    #[test]
    fn a_user_mentioned_twice_and_replied_to_is_pinged_once() {
        let m = compute_mentions("<@42> <@!42>", None, Some(42));

        assert_eq!(m.users, vec![42]);
    }
}
