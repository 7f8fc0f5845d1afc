//! Unit tests of the error mapping: statuses, codes and what reaches the wire.

use super::*;

#[test]
fn unauthorized_keeps_the_original_text() {
    let (status, code, message, _) = ApiError::Unauthorized.parts();

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code, ErrorCode::Unauthorized);
    assert_eq!(message, "Unauthorized");
}

#[test]
fn a_panic_message_never_reaches_the_wire() {
    let (status, _, message, _) = ApiError::Panic("secret detail".into()).parts();

    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(message, "internal error");
}

#[test]
fn storage_faults_are_503_with_their_own_code_and_a_retry_after() {
    use crate::queue::StoreError;
    let busy = ApiError::Queue(QueueError::Store(StoreError::Overloaded { waiting: 1 }));
    let stopped = ApiError::Queue(QueueError::Store(StoreError::Stopped));

    let (busy_status, busy_code, busy_message, _) = busy.parts();
    let (stopped_status, stopped_code, _, _) = stopped.parts();

    assert_eq!(busy_status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy_code, ErrorCode::StorageBusy);
    assert!(busy_message.contains("retry"), "{busy_message}");
    assert_eq!(busy.retry_after_secs(), Some(1));
    assert_eq!(stopped_status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(stopped_code, ErrorCode::StorageFailed);
    assert!(stopped.retry_after_secs().is_some());
}

#[test]
fn field_too_long_names_field_and_limit() {
    let err = ApiError::FieldTooLong {
        field: "command",
        limit: 16384,
    };

    assert_eq!(err.to_string(), "command is longer than 16384 bytes");
}
