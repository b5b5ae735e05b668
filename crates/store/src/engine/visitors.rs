//! Distinct visitors: what a fingerprint did on each day. Flags only ever
//! turn on. A fingerprint active on one day only (the common case: a
//! fingerprint is one browser session) is counted in `visitor_counts`, per
//! day and flags; once it is active on a second day all its rows are marked
//! `multi`, it leaves the counts and is mirrored per day instead, so reports
//! count distinct visitors over any range without scanning every visitor.

use super::Write;
use crate::rows::VisitorFlags;

/// A stored visitor day of one fingerprint.
#[derive(Clone, Debug)]
pub(crate) struct StoredDay {
    pub day: String,
    pub flags: VisitorFlags,
    pub multi: bool,
}

/// The writes that keep visitor days, counts and mirrors in step.
#[derive(Debug)]
pub(crate) enum VisitorWrite {
    /// A day's flags grew.
    SetFlags { fingerprint: String, day: String, flags: VisitorFlags },
    /// A new day for the fingerprint.
    Insert { fingerprint: String, day: String, flags: VisitorFlags, multi: bool },
    /// Moves a single-day visitor count.
    Count { day: String, flags: VisitorFlags, delta: i64 },
    /// The fingerprint is active on several days: it gets a visitor id
    /// (kept if it has one) and every one of its rows is marked `multi`.
    BecameMulti { fingerprint: String },
    /// Sets a multi-day visitor's flags on a day of the mirror (the visitor
    /// id exists: `BecameMulti` comes first).
    Mirror { fingerprint: String, day: String, flags: VisitorFlags },
}

/// Every visitor day of one fingerprint, as read under its lock; marks are
/// decided against this copy, kept up to date as they are planned.
pub(crate) struct VisitorDays {
    fingerprint: String,
    days: Vec<StoredDay>,
}

impl VisitorDays {
    pub fn new(fingerprint: impl Into<String>, days: Vec<StoredDay>) -> Self {
        Self { fingerprint: fingerprint.into(), days }
    }

    /// Plans recording what the fingerprint did on `day`.
    pub fn mark(&mut self, out: &mut Vec<Write>, day: &str, flags: VisitorFlags) {
        let fingerprint = || self.fingerprint.clone();
        let w = |out: &mut Vec<Write>, write| out.push(Write::Visitor(write));
        if let Some(stored) = self.days.iter_mut().find(|d| d.day == day) {
            let before = stored.flags;
            let after = before.union(flags);
            if after == before {
                return;
            }
            stored.flags = after;
            let multi = stored.multi;
            w(out, VisitorWrite::SetFlags { fingerprint: fingerprint(), day: day.to_owned(), flags: after });
            if multi {
                w(out, VisitorWrite::Mirror { fingerprint: fingerprint(), day: day.to_owned(), flags: after });
            } else {
                w(out, VisitorWrite::Count { day: day.to_owned(), flags: before, delta: -1 });
                w(out, VisitorWrite::Count { day: day.to_owned(), flags: after, delta: 1 });
            }
            return;
        }
        let multi = match self.days.first().cloned() {
            None => {
                w(out, VisitorWrite::Count { day: day.to_owned(), flags, delta: 1 });
                false
            }
            Some(other) => {
                if !other.multi {
                    // Its first day leaves the counts for the mirror.
                    w(out, VisitorWrite::Count { day: other.day.clone(), flags: other.flags, delta: -1 });
                    w(out, VisitorWrite::BecameMulti { fingerprint: fingerprint() });
                    w(out, VisitorWrite::Mirror { fingerprint: fingerprint(), day: other.day, flags: other.flags });
                    self.days.iter_mut().for_each(|d| d.multi = true);
                }
                w(out, VisitorWrite::Mirror { fingerprint: fingerprint(), day: day.to_owned(), flags });
                true
            }
        };
        w(out, VisitorWrite::Insert { fingerprint: fingerprint(), day: day.to_owned(), flags, multi });
        self.days.push(StoredDay { day: day.to_owned(), flags, multi });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen() -> VisitorFlags {
        VisitorFlags { seen: true, ..VisitorFlags::default() }
    }

    #[test]
    fn a_second_day_moves_the_visitor_from_the_counts_to_the_mirror() {
        let mut days = VisitorDays::new("fp", Vec::new());
        let mut out = Vec::new();
        days.mark(&mut out, "2026-01-01", seen());
        assert!(matches!(
            &out[..],
            [
                Write::Visitor(VisitorWrite::Count { delta: 1, .. }),
                Write::Visitor(VisitorWrite::Insert { multi: false, .. })
            ]
        ));
        out.clear();
        days.mark(&mut out, "2026-01-01", seen());
        assert!(out.is_empty(), "flags that are already on write nothing");
        days.mark(&mut out, "2026-01-02", seen());
        let kinds: Vec<&str> = out
            .iter()
            .map(|w| match w {
                Write::Visitor(VisitorWrite::Count { delta: -1, .. }) => "uncount",
                Write::Visitor(VisitorWrite::BecameMulti { .. }) => "multi",
                Write::Visitor(VisitorWrite::Mirror { .. }) => "mirror",
                Write::Visitor(VisitorWrite::Insert { multi: true, .. }) => "insert",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["uncount", "multi", "mirror", "mirror", "insert"]);
        out.clear();
        days.mark(&mut out, "2026-01-03", seen());
        assert_eq!(out.len(), 2, "an already multi-day visitor is mirrored and inserted only: {out:?}");
    }
}
