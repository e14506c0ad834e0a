// Cluster tests run several Switchman processes each, with elections timed in milliseconds: running test classes
// side by side on two cores would starve them and turn elections into noise. One class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
