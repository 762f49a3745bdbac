use super::*;

#[test]
fn synthetic_ids_are_version_7_in_order_and_the_same_for_the_same_seed() {
    let ids = |seed| {
        let mut rng = Rng::new(seed);
        (0..1_000).map(|_| synthetic_id(&mut rng)).collect::<Vec<String>>()
    };
    let first = ids(7);
    assert_eq!(first, ids(7));
    assert_ne!(first, ids(8));
    assert!(first.windows(2).all(|w| w[0] < w[1]), "made in order, sorted in order");
    for id in &first {
        let uuid = uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(uuid.get_version_num(), 7);
    }
    let unique: std::collections::HashSet<&String> = first.iter().collect();
    assert_eq!(unique.len(), first.len());
}
