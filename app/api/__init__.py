"""HTTP: dependencies, error translation and thin routes."""
