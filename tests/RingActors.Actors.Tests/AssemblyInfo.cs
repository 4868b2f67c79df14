// Actor specs start ActorSystems with a compute dispatcher of their own and time-sensitive rings: on 2 cores they run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
