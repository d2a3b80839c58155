enum JinjaModule {}
