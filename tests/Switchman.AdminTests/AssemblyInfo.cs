// Health-check timing is part of what these tests observe (the event stream's "server down" latency); test classes
// running side by side on two cores would only add noise to it.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
