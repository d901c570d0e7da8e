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

/// What seeing an alternative means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AltKind {
    /// An accepted outcome (kernels differ here without a capability to gate on).
    Accepted,
    /// A known regression: seeing it is a failure, and `because` is the hint naming the fix.
    Regression,
    /// A documented kernel bug (`because` names it). `known_here`: this kernel is one where the
    /// bug is known (the suite decides from a host fact); seeing it there is a known kernel bug,
    /// seeing it anywhere else is a failure.
    KnownBug { known_here: bool },
}

/// One outcome a case accepts, or knows as a regression or a kernel bug, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    pub outcome: Outcome,
    /// Why this outcome can happen: the kernel change, configuration or bug that explains it.
    pub because: &'static str,
    pub kind: AltKind,
}

/// The expected outcome of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Exactly this outcome.
    Is(Outcome),
    /// One of these (kernel versions that differ without a capability to gate on). A listed
    /// regression among them fails with its hint; a listed kernel bug is a known kernel bug
    /// where it is known.
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
                    .filter(|a| a.kind == AltKind::Accepted)
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
    /// As expected. `alternative` names which listed alternative this kernel showed;
    /// `bug_not_seen` a kernel bug listed as known here that this kernel did not show.
    Pass {
        alternative: Option<&'static str>,
        bug_not_seen: Option<&'static str>,
    },
    /// The documented kernel bug `bug`, on a kernel where it is known.
    KnownBug { bug: &'static str },
    /// Not as expected; `hint` names the fix of a known regression, or the kernel bug seen on a
    /// kernel where it is not known.
    Fail { hint: Option<String> },
}

impl Judgement {
    /// Not a failure (a pass, or a known kernel bug where it is known).
    pub fn passed(&self) -> bool {
        !matches!(self, Judgement::Fail { .. })
    }
}

/// Compare an actual outcome with the expectation.
pub fn judge(expected: &Expected, actual: Outcome) -> Judgement {
    let pass = |alternative| Judgement::Pass {
        alternative,
        bug_not_seen: None,
    };
    match expected {
        Expected::Is(o) if *o == actual => pass(None),
        Expected::Is(_) => Judgement::Fail { hint: None },
        Expected::OneOf(alts) => match alts.iter().find(|a| a.outcome == actual) {
            Some(a) => match a.kind {
                AltKind::Accepted => Judgement::Pass {
                    alternative: Some(a.because),
                    bug_not_seen: alts
                        .iter()
                        .find(|b| b.kind == AltKind::KnownBug { known_here: true })
                        .map(|b| b.because),
                },
                AltKind::Regression => Judgement::Fail {
                    hint: Some(format!("known regression: {}", a.because)),
                },
                AltKind::KnownBug { known_here: true } => Judgement::KnownBug { bug: a.because },
                AltKind::KnownBug { known_here: false } => Judgement::Fail {
                    hint: Some(format!(
                        "this is a documented kernel bug ({}), but this kernel is not one where it is known",
                        a.because
                    )),
                },
            },
            None => Judgement::Fail { hint: None },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const EINVAL: Outcome = Outcome::Errno(Errno::EINVAL as i32);
    const EFAULT: Outcome = Outcome::Errno(Errno::EFAULT as i32);

    fn alt(outcome: Outcome, because: &'static str, kind: AltKind) -> Alternative {
        Alternative {
            outcome,
            because,
            kind,
        }
    }

    fn one_of() -> Expected {
        Expected::OneOf(vec![
            alt(EFAULT, "OLD checks the memslot first", AltKind::Accepted),
            alt(EINVAL, "NEW validates keys first", AltKind::Accepted),
            alt(Outcome::Value(5), "fixed by X", AltKind::Regression),
        ])
    }

    /// 0 is right; 5 is bug B, known on this kernel or not.
    fn with_bug(known_here: bool) -> Expected {
        Expected::OneOf(vec![
            alt(Outcome::OK, "the documented answer", AltKind::Accepted),
            alt(Outcome::Value(5), "bug B", AltKind::KnownBug { known_here }),
        ])
    }

    const fn pass(alternative: Option<&'static str>) -> Judgement {
        Judgement::Pass {
            alternative,
            bug_not_seen: None,
        }
    }

    #[rstest]
    #[case::zero_is_zero(Expected::ok(), Outcome::OK, pass(None))]
    #[case::errno_is_errno(Expected::errno(Errno::EINVAL), EINVAL, pass(None))]
    #[case::success_where_errno_expected(Expected::errno(Errno::EINVAL), Outcome::OK, Judgement::Fail { hint: None })]
    #[case::other_errno(Expected::errno(Errno::EINVAL), EFAULT, Judgement::Fail { hint: None })]
    #[case::positive_is_not_ok(Expected::ok(), Outcome::Value(1), Judgement::Fail { hint: None })]
    #[case::value_5_is_not_errno_5(Expected::value(5), Outcome::Errno(5), Judgement::Fail { hint: None })]
    #[case::errno_5_is_not_value_5(Expected::Is(Outcome::Errno(5)), Outcome::Value(5), Judgement::Fail { hint: None })]
    #[case::byte_count_exact(Expected::value(144), Outcome::Value(72), Judgement::Fail { hint: None })]
    #[case::first_alternative(one_of(), EFAULT, pass(Some("OLD checks the memslot first")))]
    #[case::second_alternative(one_of(), EINVAL, pass(Some("NEW validates keys first")))]
    #[case::known_regression(one_of(), Outcome::Value(5), Judgement::Fail { hint: Some("known regression: fixed by X".into()) })]
    #[case::unlisted(one_of(), Outcome::OK, Judgement::Fail { hint: None })]
    #[case::known_bug_seen_where_known(with_bug(true), Outcome::Value(5), Judgement::KnownBug { bug: "bug B" })]
    #[case::known_bug_seen_elsewhere(with_bug(false), Outcome::Value(5), Judgement::Fail { hint: Some("this is a documented kernel bug (bug B), but this kernel is not one where it is known".into()) })]
    #[case::known_bug_not_seen(with_bug(true), Outcome::OK, Judgement::Pass { alternative: Some("the documented answer"), bug_not_seen: Some("bug B") })]
    #[case::bug_not_known_here_not_seen(
        with_bug(false),
        Outcome::OK,
        pass(Some("the documented answer"))
    )]
    #[case::neither_answer_nor_bug(with_bug(true), EINVAL, Judgement::Fail { hint: None })]
    fn judgement(#[case] expected: Expected, #[case] actual: Outcome, #[case] want: Judgement) {
        assert_eq!(judge(&expected, actual), want);
    }

    #[rstest]
    #[case(Outcome::OK, "0")]
    #[case(Outcome::Value(72), "72")]
    #[case(EINVAL, "-1 EINVAL (Invalid argument)")]
    #[case(Outcome::Errno(Errno::E2BIG as i32), "-1 E2BIG (Argument list too long)")]
    fn display(#[case] o: Outcome, #[case] text: &str) {
        assert_eq!(o.to_string(), text);
    }

    #[test]
    fn regression_is_not_listed_as_accepted() {
        let text = one_of().to_string();
        assert!(text.contains("EFAULT") && text.contains("EINVAL"), "{text}");
        assert!(!text.contains("fixed by X"), "{text}");
    }

    #[test]
    fn known_bug_is_not_listed_as_accepted_and_is_not_a_failure() {
        let text = with_bug(true).to_string();
        assert_eq!(text, "one of: 0 (the documented answer)");
        assert!(judge(&with_bug(true), Outcome::Value(5)).passed());
        assert!(!judge(&with_bug(false), Outcome::Value(5)).passed());
    }

    #[test]
    fn from_sys_result_keeps_positive_values() {
        assert_eq!(Outcome::from(Ok::<i64, Errno>(5)), Outcome::Value(5));
        assert_eq!(
            Outcome::from(Err::<i64, Errno>(Errno::ENOBUFS)),
            Outcome::Errno(Errno::ENOBUFS as i32)
        );
    }
}
