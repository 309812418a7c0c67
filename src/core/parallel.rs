//! Work on every core, for the jobs a big fact base makes long: parsing and
//! checking it, and indexing it. The items are cut into runs, one per core,
//! each run is done on its own thread, and the runs' results come back in
//! the items' order, so what is built from them is the same on any machine.

/// `f` over `items` cut into one run per core, each at least `min_run`
/// long (a thread costs more than it saves on fewer), called with the
/// run's offset in `items`: the runs' results, in order. The first run is
/// done on the calling thread.
pub(crate) fn in_runs<T: Sync, R: Send>(
    items: &[T],
    min_run: usize,
    f: impl Fn(usize, &[T]) -> R + Sync,
) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let run = items.len().div_ceil(cores).max(min_run).max(1);
    let mut runs = items.chunks(run).enumerate();
    let Some((_, first)) = runs.next() else {
        return vec![f(0, items)];
    };
    let f = &f;
    std::thread::scope(|scope| {
        let others: Vec<_> = runs
            .map(|(i, items)| scope.spawn(move || f(i * run, items)))
            .collect();
        let mut results = vec![f(0, first)];
        results.extend(others.into_iter().map(|h| {
            h.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }));
        results
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_come_back_in_order_with_their_offsets() {
        let items: Vec<usize> = (0..1000).collect();
        let runs = in_runs(&items, 10, |offset, run| {
            assert_eq!(run[0], offset);
            run.to_vec()
        });
        assert_eq!(runs.concat(), items);
        assert_eq!(in_runs(&items, 5000, |_, run| run.len()), [1000]);
        assert_eq!(in_runs(&[] as &[u8], 1, |_, run| run.len()), [0]);
    }
}
