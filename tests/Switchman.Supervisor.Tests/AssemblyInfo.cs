// Stop timeouts of a few hundred milliseconds are part of what these tests observe; test classes starting processes
// side by side on two cores would only add noise to them.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
