// Host specs start ActorSystems, clusters and node processes on 127.0.0.1: run them one at a time so they neither
// compete for the two cores (timeouts) nor for ports.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
