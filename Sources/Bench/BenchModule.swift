/// The benchmark module: datasets, `bench-offline` and `bench-serving`.
enum BenchModule {}
