//! The wall clock. Only the shells read it (the async loop, the commands); the state
//! machine and every rule take the time as a parameter.

/// Current Unix time in ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
