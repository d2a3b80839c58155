enum GrammarModule {}
