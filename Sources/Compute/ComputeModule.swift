enum ComputeModule {}
