//! Detections (DESIGN §5). [`stateless::evaluate`] judges one record (the receiver uses it
//! to fill `flags`); [`Detector`] watches the stream — rosters, bursts, silence — and
//! turns every finding into an [`Alert`], grouped so that one incident is one alert.
//! [`location`] holds the rules that read GeoIP `geo` blocks: anonymizers and country
//! policy (stateless), new countries and impossible travel (its `Travel` memory).
//! [`subjects`] names who and where in reasons; [`names`] folds display names for the
//! impersonation rules.

pub mod catalog;
mod detector;
pub mod location;
pub mod names;
mod sessions;
pub mod sigma;
pub mod stateless;
pub mod subjects;

pub use catalog::{Grouping, RULES, RuleInfo, RuleScope};
pub use detector::{Alert, AlertEvent, Detector, Keys, MeetingBrief, MemoryFill, effective_flags};
pub use stateless::evaluate;
