//! `Range: bytes=...` for resumable downloads: one range (`a-b`, `a-`,
//! `-n`) resolved against the blob's size. Anything else (several ranges,
//! another unit, bad syntax) is ignored, as RFC 9110 allows: the whole blob
//! is sent.

/// What a `Range` header asks of a blob of a given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAsk {
    /// No usable range: send everything (200).
    Whole,
    /// Bytes `start..end` (end exclusive; 206).
    Part { start: u64, end: u64 },
    /// Syntactically fine but outside the blob (416).
    Unsatisfiable,
}

/// Resolves the `Range` header value against `size`.
pub fn resolve(header: Option<&str>, size: u64) -> RangeAsk {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeAsk::Whole;
    };
    let spec = spec.trim();
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeAsk::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.is_empty(), last.is_empty()) {
        // `-n`: the last n bytes.
        (true, false) => match number(last) {
            Some(0) => RangeAsk::Unsatisfiable,
            Some(_) if size == 0 => RangeAsk::Unsatisfiable,
            Some(n) => RangeAsk::Part {
                start: size.saturating_sub(n),
                end: size,
            },
            None => RangeAsk::Whole,
        },
        // `a-`: from a to the end.
        (false, true) => match number(first) {
            Some(a) if a >= size => RangeAsk::Unsatisfiable,
            Some(a) => RangeAsk::Part {
                start: a,
                end: size,
            },
            None => RangeAsk::Whole,
        },
        // `a-b`, inclusive.
        (false, false) => match (number(first), number(last)) {
            (Some(a), Some(b)) if a > b => RangeAsk::Whole,
            (Some(a), Some(_)) if a >= size => RangeAsk::Unsatisfiable,
            (Some(a), Some(b)) => RangeAsk::Part {
                start: a,
                end: b.saturating_add(1).min(size),
            },
            _ => RangeAsk::Whole,
        },
        (true, true) => RangeAsk::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::RangeAsk::*;
    use super::*;

    #[test]
    fn single_ranges() {
        let r = |h: &str| resolve(Some(h), 100);
        assert_eq!(r("bytes=0-9"), Part { start: 0, end: 10 });
        assert_eq!(
            r("bytes=90-"),
            Part {
                start: 90,
                end: 100
            }
        );
        assert_eq!(
            r("bytes=-10"),
            Part {
                start: 90,
                end: 100
            }
        );
        assert_eq!(r("bytes=-1000"), Part { start: 0, end: 100 });
        assert_eq!(
            r("bytes=50-1000"),
            Part {
                start: 50,
                end: 100
            }
        );
        assert_eq!(r("bytes=100-"), Unsatisfiable);
        assert_eq!(r("bytes=100-200"), Unsatisfiable);
        assert_eq!(r("bytes=-0"), Unsatisfiable);
        assert_eq!(resolve(Some("bytes=-5"), 0), Unsatisfiable);
        for ignored in [
            "bytes=5-1",
            "bytes=0-1,3-4",
            "items=0-1",
            "bytes=x-1",
            "bytes=-",
            "bytes=+1-2",
        ] {
            assert_eq!(r(ignored), Whole, "{ignored}");
        }
        assert_eq!(resolve(None, 100), Whole);
    }
}
