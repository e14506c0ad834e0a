// One browser, one node at a time: the pages are compared with what the API says at the same moment.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
