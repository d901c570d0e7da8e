//! What a call returned and what a case expected of it, and the judgement between the two.
//!
//! Exactness matters: three of the ioctls under test return meaningful positive values (a
//! program-interruption code, KVM_S390_GET_SKEYS_NONE, a byte count), so an outcome is a value
//! or an errno, never "ok"/"error".

use nix::errno::Errno;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Exactly what a system call returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// A non-negative return value.
    Value(i64),
    /// -1 with this errno (the raw errno number).
    Errno(i32),
}

impl Outcome {
    pub const OK: Outcome = Outcome::Value(0);

    pub fn errno(e: Errno) -> Self {
        Outcome::Errno(e as i32)
    }
}

impl From<Result<i64, Errno>> for Outcome {
    fn from(r: Result<i64, Errno>) -> Self {
        match r {
            Ok(v) => Outcome::Value(v),
            Err(e) => Outcome::errno(e),
        }
    }
}

impl From<Errno> for Outcome {
    fn from(e: Errno) -> Self {
        Outcome::errno(e)
    }
}

/// `EINVAL`, the symbolic name of an errno number.
pub fn errno_name(e: i32) -> String {
    let errno = Errno::from_raw(e);
    if errno == Errno::UnknownErrno {
        format!("errno {e}")
    } else {
        format!("{errno:?}")
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Outcome::Value(v) => write!(f, "{v}"),
            Outcome::Errno(e) => {
                write!(f, "-1 {} ({})", errno_name(e), Errno::from_raw(e).desc())
            }
        }
    }
}

/// One outcome a case accepts, or knows as a regression, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    pub outcome: Outcome,
    /// Why this outcome can happen: the kernel change or configuration that explains it.
    pub because: &'static str,
    /// A known regression: seeing it is a failure, and `because` is the hint naming the fix.
    pub regression: bool,
}

/// The expected outcome of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Exactly this outcome.
    Is(Outcome),
    /// One of these (kernel versions that differ without a capability to gate on). A listed
    /// regression among them fails with its hint.
    OneOf(Vec<Alternative>),
}

impl Expected {
    pub fn ok() -> Self {
        Expected::Is(Outcome::OK)
    }
    pub fn value(v: i64) -> Self {
        Expected::Is(Outcome::Value(v))
    }
    pub fn errno(e: Errno) -> Self {
        Expected::Is(Outcome::errno(e))
    }
}

impl From<Outcome> for Expected {
    fn from(o: Outcome) -> Self {
        Expected::Is(o)
    }
}

impl From<Errno> for Expected {
    fn from(e: Errno) -> Self {
        Expected::errno(e)
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Is(o) => write!(f, "{o}"),
            Expected::OneOf(alts) => {
                let accepted: Vec<String> = alts
                    .iter()
                    .filter(|a| !a.regression)
                    .map(|a| format!("{} ({})", a.outcome, a.because))
                    .collect();
                write!(f, "one of: {}", accepted.join("; "))
            }
        }
    }
}

/// The verdict on one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// As expected. `alternative` names which listed alternative this kernel showed.
    Pass { alternative: Option<&'static str> },
    /// Not as expected; `hint` names the fix when the outcome is a known regression.
    Fail { hint: Option<&'static str> },
}

impl Judgement {
    pub fn passed(&self) -> bool {
        matches!(self, Judgement::Pass { .. })
    }
}

/// Compare an actual outcome with the expectation.
pub fn judge(expected: &Expected, actual: Outcome) -> Judgement {
    match expected {
        Expected::Is(o) if *o == actual => Judgement::Pass { alternative: None },
        Expected::Is(_) => Judgement::Fail { hint: None },
        Expected::OneOf(alts) => match alts.iter().find(|a| a.outcome == actual) {
            Some(a) if a.regression => Judgement::Fail { hint: Some(a.because) },
            Some(a) => Judgement::Pass { alternative: Some(a.because) },
            None => Judgement::Fail { hint: None },
        },
    }
}
