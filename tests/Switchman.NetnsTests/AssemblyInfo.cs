// Each test builds a lab of network namespaces and runs several Switchman processes in it, with elections timed in
// milliseconds: on two cores, two at once would starve each other (and only one NetworkLab exists per process anyway).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
