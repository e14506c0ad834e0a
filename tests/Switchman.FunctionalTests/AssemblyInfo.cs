// Failover tests put real load on two cores; running test classes side by side would make them compete for CPU and
// turn per-try timeouts into false failures. One class at a time keeps every run comparable.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
