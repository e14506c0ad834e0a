// The drain test holds slow requests in flight and the CLI runs as child processes; one class at a time keeps a busy
// machine from stretching those processes' start-up past the requests they are meant to overlap.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
