//! Which arm a visitor is in: GrowthBook's hash version 2, so anyone can
//! recompute an assignment from the experiment key and the fingerprint.

/// Buckets a visitor can fall in; an arm holds a contiguous range of them.
pub const BUCKETS: u32 = 10_000;

/// FNV-1a, 32 bits, over the UTF-8 bytes.
pub fn fnv1a32(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193))
}

/// `fnv1a32(decimal(fnv1a32(key + fingerprint))) mod 10000`.
pub fn bucket(key: &str, fingerprint: &str) -> u32 {
    let inner = fnv1a32(&format!("{key}{fingerprint}"));
    fnv1a32(&inner.to_string()) % BUCKETS
}

/// The index of the arm that holds `bucket`: with `W` the sum of the weights
/// and `C_i` the weights before arm `i`, arm `i` holds
/// `floor(10000·C_i/W) ≤ b < floor(10000·C_{i+1}/W)`. `None` only when there
/// are no weights (a validated experiment always has some).
pub fn arm_of(weights: &[u32], bucket: u32) -> Option<usize> {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if total == 0 {
        return None;
    }
    let mut before = 0u64;
    for (i, &w) in weights.iter().enumerate() {
        before += u64::from(w);
        let end = u64::from(BUCKETS) * before / total;
        if u64::from(bucket) < end {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// 100,000 random fingerprints split as the weights say: each arm's
        /// share within a point of its weight's, and SRM's chi-square far from
        /// a warning (p > 1e-6, where a true split falls below 0.001 once in
        /// a thousand).
        #[test]
        fn random_fingerprints_split_by_the_weights(
            weights in prop::collection::vec(1u32..=100, 2..=5),
            seed in any::<u64>(),
            key in "[a-z0-9-]{1,20}",
        ) {
            let mut counts = vec![0u64; weights.len()];
            for i in 0..100_000u64 {
                let fingerprint = format!("{:x}", seed.wrapping_add(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
                counts[arm_of(&weights, bucket(&key, &fingerprint)).unwrap()] += 1;
            }
            let total: u32 = weights.iter().sum();
            for (count, weight) in counts.iter().zip(&weights) {
                // The bucket ranges round each boundary down by under 1/10000.
                let share = *count as f64 / 100_000.0;
                prop_assert!((share - f64::from(*weight) / f64::from(total)).abs() < 0.01, "{counts:?} {weights:?}");
            }
            let p = crate::experiment::srm_p_value(&counts, &weights);
            prop_assert!(p > 1e-6, "p {p} for {counts:?} at {weights:?}");
        }
    }

    #[test]
    fn growthbook_hash_v2_vector() {
        // GrowthBook's published vector: seed "seed", value "a" → 0.0505.
        assert_eq!(bucket("seed", "a"), 505);
        assert_eq!(fnv1a32(""), 0x811c_9dc5);
        assert_eq!(fnv1a32("a"), 0xe40c_292c);
    }

    #[test]
    fn uneven_weights_split_the_buckets_by_floor() {
        // 1:2 → [0, 3333) and [3333, 10000).
        assert_eq!(arm_of(&[1, 2], 0), Some(0));
        assert_eq!(arm_of(&[1, 2], 3332), Some(0));
        assert_eq!(arm_of(&[1, 2], 3333), Some(1));
        assert_eq!(arm_of(&[1, 2], 9999), Some(1));
        // 10/90 → [0, 1000) and [1000, 10000); three arms 1:1:1.
        assert_eq!(arm_of(&[10, 90], 999), Some(0));
        assert_eq!(arm_of(&[10, 90], 1000), Some(1));
        // floor(10000·2/3) = 6666: arm 1 holds [3333, 6666).
        assert_eq!(arm_of(&[1, 1, 1], 6665), Some(1));
        assert_eq!(arm_of(&[1, 1, 1], 6666), Some(2));
        assert_eq!(arm_of(&[], 5), None);
    }
}
